"""Check the built site the way a reader sees it: in a real headless Chromium.

For every page listed in ``_toc.yml`` (plus the search page) this script

* loads it from a local server on 127.0.0.1 and requires HTTP 200 and no JavaScript
  console error or uncaught exception;
* waits for MathJax to finish, then requires every math element (class ``math``) to
  hold a rendered MathJax container and no MathJax error node to appear;
* requires every image to load (natural width > 0);
* follows every internal link: the target file must exist and, for ``#anchor`` links
  (equations, glossary terms, citations, sections), the anchor must exist in it;
* saves a full-page screenshot under ``_build/screenshots/``.

It also searches the site for "transpose" and requires the chapter on transposes among
the results. Every problem is collected and printed, page by page; the exit status is
1 if there was any.

The browser is Debian's ``chromium`` (``/usr/bin/chromium``), driven by Playwright's
Python client with that executable: nothing is downloaded. ``make check-site``
installs the Debian package first when it is missing.

Usage: ``python tools/check_site.py [--site _build/html] [--chromium /usr/bin/chromium]``
"""

from __future__ import annotations

import argparse
import functools
import http.server
import pathlib
import re
import sys
import threading
import urllib.parse
from collections import defaultdict
from html.parser import HTMLParser

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Runs in the page: wait for MathJax 3 to typeset everything, then report on math.
MATH_JS = """
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const maths = Array.from(document.querySelectorAll('.math'));
  const unrendered = maths
    .filter(el => !el.querySelector('mjx-container') && el.tagName !== 'MJX-CONTAINER')
    .map(el => el.textContent.trim().slice(0, 80));
  const errors = Array.from(document.querySelectorAll('mjx-merror, [data-mjx-error]'))
    .map(el => (el.getAttribute('data-mjx-error') || el.textContent).slice(0, 120));
  return {count: maths.length, unrendered, errors, hasMathJax: !!window.MathJax};
}
"""

# Runs in the page: load every image (lazy ones too) and list those that failed.
IMAGES_JS = """
async () => {
  const imgs = Array.from(document.images);
  await Promise.all(imgs.map(img => {
    img.loading = 'eager';
    if (img.complete) return null;
    return new Promise(resolve => {
      img.addEventListener('load', resolve, {once: true});
      img.addEventListener('error', resolve, {once: true});
      setTimeout(resolve, 5000);
    });
  }));
  return imgs.filter(img => !(img.complete && img.naturalWidth > 0))
             .map(img => img.getAttribute('src'));
}
"""

LINKS_JS = "() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"


class _Ids(HTMLParser):
    """Collect every id and name attribute of an HTML document (link targets)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("id", "name") and value:
                self.ids.add(value)


@functools.cache
def anchors_of(path: pathlib.Path) -> frozenset[str]:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


def toc_pages(toc: pathlib.Path) -> list[str]:
    """The pages of ``_toc.yml`` (root and every ``file:``), as .html paths, in order."""
    text = toc.read_text(encoding="utf-8")
    names = re.findall(r"^\s*(?:root|-?\s*file):\s*([^\s#]+)", text, flags=re.MULTILINE)
    pages = []
    for name in names:
        stem = str(pathlib.PurePosixPath(name).with_suffix(""))
        if stem not in pages:
            pages.append(stem)
    return [f"{p}.html" for p in pages]


def serve(site: pathlib.Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep the report readable
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def check_link(href: str, base: str, site: pathlib.Path) -> str | None:
    """None if an internal link resolves, else what is wrong. External links are skipped."""
    if not href.startswith(base):
        return None
    parsed = urllib.parse.urlparse(href)
    rel = urllib.parse.unquote(parsed.path[len(urllib.parse.urlparse(base).path) :])
    target = site / rel
    if rel == "" or target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        return f"broken link: {href} (no file {rel or 'index.html'})"
    if parsed.fragment and target.suffix == ".html":
        anchor = urllib.parse.unquote(parsed.fragment)
        if anchor not in anchors_of(target):
            return f"broken anchor: {href} (no id '{anchor}' in {target.relative_to(site)})"
    return None


def check_page(page, url: str, base: str, site: pathlib.Path, shots: pathlib.Path) -> list[str]:
    problems: list[str] = []
    console: list[str] = []
    def on_console(msg) -> None:
        if msg.type == "error":
            where = (msg.location or {}).get("url", "")
            console.append(f"{msg.text} [{where}]" if where else msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: console.append(f"uncaught: {exc}"))
    page.on(
        "response",
        lambda r: console.append(f"HTTP {r.status} for {r.url}") if r.status >= 400 else None,
    )
    response = page.goto(url, wait_until="load")
    if response is None or response.status != 200:
        status = None if response is None else response.status
        return [f"HTTP status {status}"]
    math = page.evaluate(MATH_JS)
    if math["count"] and not math["hasMathJax"]:
        problems.append(f"{math['count']} math element(s) but MathJax did not load")
    for text in math["unrendered"]:
        problems.append(f"math not rendered by MathJax: {text!r}")
    for text in math["errors"]:
        problems.append(f"MathJax error: {text!r}")
    for src in page.evaluate(IMAGES_JS):
        problems.append(f"image did not load: {src}")
    for href in sorted(set(page.evaluate(LINKS_JS))):
        problem = check_link(href, base, site)
        if problem:
            problems.append(problem)
    page.wait_for_timeout(200)  # let late console errors arrive
    problems.extend(f"console error: {text}" for text in console)
    shot = shots / (url[len(base) :].replace("/", "__").removesuffix(".html") + ".png")
    page.screenshot(path=str(shot), full_page=True)
    return problems


def check_search(page, base: str) -> list[str]:
    page.goto(base + "search.html?q=transpose", wait_until="load")
    try:
        page.wait_for_selector("#search-results ul.search li", timeout=15000)
    except Exception:
        return ["searching for 'transpose' gave no results"]
    hrefs = page.evaluate(
        "() => Array.from(document.querySelectorAll('#search-results ul.search li a'))"
        ".map(a => a.href)"
    )
    if not any("vector-derivatives" in h for h in hrefs):
        return [f"searching for 'transpose' did not find the transposes chapter: {hrefs}"]
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=pathlib.Path, default=ROOT / "_build" / "html")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--toc", type=pathlib.Path, default=ROOT / "_toc.yml")
    args = parser.parse_args()
    site = args.site.resolve()
    if not (site / "index.html").is_file():
        print(f"no built site at {site}: run `make book` first")
        return 1
    if not pathlib.Path(args.chromium).is_file():
        print(f"no Chromium at {args.chromium}: `apt-get install chromium` (make check-site does)")
        return 1
    from playwright.sync_api import sync_playwright

    shots = site.parent / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    server, base = serve(site)
    report: dict[str, list[str]] = defaultdict(list)
    pages = toc_pages(args.toc)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            for rel in pages:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                try:
                    report[rel] = check_page(page, base + rel, base, site, shots)
                except Exception as exc:  # a crash on one page is a finding, not the end
                    report[rel] = [f"check failed: {exc}"]
                finally:
                    page.close()
            page = browser.new_page()
            report["search.html"] = check_search(page, base)
            page.close()
            browser.close()
    finally:
        server.shutdown()

    failed = {rel: probs for rel, probs in report.items() if probs}
    for rel in [*pages, "search.html"]:
        probs = report.get(rel, [])
        print(f"{'FAIL' if probs else 'ok  '} {rel}")
        for problem in probs:
            print(f"       - {problem}")
    where = shots.relative_to(ROOT) if shots.is_relative_to(ROOT) else shots
    print(f"\nscreenshots in {where}")
    print(f"site: {len(report) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
