r"""Check the built site the way a reader sees it: in a real headless Chromium.

Every page listed in ``_toc.yml`` is opened at a phone width (390 px) and a desktop
width (1400 px); at each width the script

* loads it from a local server on 127.0.0.1 and requires HTTP 200 and no JavaScript
  console error or uncaught exception;
* waits for MathJax to finish, then requires every math element (class ``math``) to
  hold a rendered MathJax container and no MathJax error node to appear;
* clicks every visible navigation button (the "site navigation" hamburger,
  ``.primary-toggle``, and the "contents" button, ``.secondary-toggle``; also at 900 px,
  by narrowing the desktop page) and requires its table of contents to become visible:
  links a reader can see and hit. A button whose table of contents is already shown must
  hide it and show it again;
* requires no top header bar, an article header of one row, and at most one visible
  search field;
* fails on raw TeX in rendered text: a ``$``, a ``\command``, ``^{`` or ``_{`` in any
  text of the page outside math (MathJax output), code and ``pre`` blocks;
* at 1400 px, fails on a display equation whose typeset math and equation number
  (``.eqno``) overlap (their bounding boxes intersect: the number covers the equation or
  the equation runs on, hidden, under it);
* at 390 px, requires every display equation wider than its box to scroll sideways
  inside its own box (not clipped, not pushing the page wider than the screen) and that
  box to show a scroll cue (a scrolling shadow: a ``local`` gradient background, or a
  mask); and no element of the article may stick out past the screen's right edge;
* at 1400 px, requires every image in the article to load, to have alt text that is
  neither empty nor a file name, and to sit in a figure with a numbered caption;
* at 1400 px, on a chapter (a page built from a notebook), requires the code inputs a
  reader sees (not those folded with ``hide-input``) to take at most 30 % of the
  article's height;
* requires the footer to state the license of the text (CC BY 4.0) and to link nnlib's
  wheel; follows every internal link: the target file must exist and, for ``#anchor``
  links (equations, glossary terms, citations, sections), the anchor must exist in it;
* saves a full-page screenshot under ``_build/screenshots/`` (``<page>-<width>.png``).

It also searches the site for "transpose" and requires the chapter on transposes among
the results. Every problem is collected and printed, page by page, with the width at
which it was seen; the exit status is 1 if there was any.

The browser is Debian's ``chromium`` (``/usr/bin/chromium``), driven by Playwright's
Python client with that executable: nothing is downloaded. ``make check-site``
installs the Debian package, and the Korean and emoji fonts, first when missing.

Usage: ``python tools/check_site.py [--site _build/html] [--chromium /usr/bin/chromium]
[--page book/notation.html ...] [--width 390 --width 1400]``
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

WIDTHS = (390, 1400)  # a phone and a desktop
NAV_ONLY_WIDTHS = (900,)  # a tablet: the navigation buttons are checked there too
HEIGHT = 900
CODE_SHARE_MAX = 0.30  # of a chapter's height at 1400 px, for visible code inputs

# Runs in the page: how many links of the site navigation ("primary") or of the page's
# contents ("secondary") a reader can see and click right now.
VISIBLE_TOC_JS = """
(kind) => {
  const sel = kind === 'primary' ? 'nav.bd-docs-nav a, nav.bd-links a'
                                 : 'nav.bd-toc-nav a, nav.page-toc a';
  return Array.from(document.querySelectorAll(sel)).filter(a => {
    const r = a.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) return false;
    if (r.right <= 0 || r.bottom <= 0 || r.left >= innerWidth || r.top >= innerHeight)
      return false;
    if (!a.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) return false;
    const x = Math.min(innerWidth - 1, Math.max(0, r.left + Math.min(r.width / 2, 20)));
    const y = Math.min(innerHeight - 1, Math.max(0, r.top + r.height / 2));
    const hit = document.elementFromPoint(x, y);
    return !!hit && (hit === a || a.contains(hit));
  }).length;
}
"""

# Runs in the page: a top header bar, and the search fields a reader sees.
HEADER_JS = """
() => {
  const shown = el => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 &&
           el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  };
  const headers = Array.from(document.querySelectorAll('header.bd-header, #pst-header'))
    .filter(shown).map(el => Math.round(el.getBoundingClientRect().height));
  const searches = Array.from(document.querySelectorAll(
      '.search-button-field, input[type="search"], form.bd-search'))
    .filter(el => !el.closest('dialog, .search-button__wrapper'))
    .filter(el => !el.parentElement.closest('.search-button-field, form.bd-search'))
    .filter(shown).length;
  // The article header's buttons: how tall the band they occupy is (one row is 48 px).
  const items = Array.from(document.querySelectorAll('.bd-header-article .header-article-item'))
    .filter(shown).map(el => el.getBoundingClientRect());
  const articleHeader = items.length
    ? Math.round(Math.max(...items.map(r => r.bottom)) - Math.min(...items.map(r => r.top)))
    : 0;
  return {headers, searches, articleHeader};
}
"""

# Runs in the page: raw TeX left in rendered text (outside math, code and pre).
RAW_TEX_JS = r"""
() => {
  const skip = 'mjx-container, .math, code, pre, kbd, samp, script, style, noscript, '
             + 'textarea, .highlight';
  const pattern = /\$|\\[A-Za-z]+|\^\{|_\{/;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const found = [];
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.nodeValue;
    const match = pattern.exec(text);
    if (!match || !node.parentElement || node.parentElement.closest(skip)) continue;
    const block = node.parentElement.closest('p, li, dt, dd, td, th, h1, h2, h3, h4, '
                                             + 'h5, h6, figcaption, a, div') || node.parentElement;
    const copy = block.cloneNode(true);  // the text as read, with math shown as [math]
    copy.querySelectorAll('mjx-container').forEach(el => el.replaceWith('[math]'));
    const whole = copy.textContent.replace(/\s+/g, ' ');
    const at = Math.max(0, whole.indexOf(match[0]));
    found.push({token: match[0], context: whole.slice(Math.max(0, at - 50), at + 50).trim()});
  }
  return found;
}
"""

# Runs in the page: display equations against their numbers and their boxes.
EQUATIONS_JS = """
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const items = (window.MathJax && MathJax.startup && MathJax.startup.document)
    ? MathJax.startup.document : null;
  const tex = div => {
    try {
      const found = items.getMathItemsWithin(div);
      if (found.length) return found[0].math.replace(/\\s+/g, ' ').trim().slice(0, 60);
    } catch (e) { /* fall through */ }
    return div.textContent.replace(/\\s+/g, ' ').trim().slice(0, 60);
  };
  const out = [];
  for (const div of document.querySelectorAll('.bd-article div.math')) {
    const math = div.querySelector('mjx-math');
    if (!math) continue;
    const eqno = div.querySelector('.eqno');
    const m = math.getBoundingClientRect();
    let scroller = null;
    for (let el = math.parentElement; el && el !== div.parentElement; el = el.parentElement) {
      const ox = getComputedStyle(el).overflowX;
      if ((ox === 'auto' || ox === 'scroll') && el.scrollWidth > el.clientWidth + 1) {
        scroller = el;
        break;
      }
    }
    const d = div.getBoundingClientRect();
    const item = {
      label: eqno ? eqno.textContent.replace(/[^0-9.()]/g, '') : '',
      tex: tex(div),
      wide: scroller !== null || m.right > d.right + 1 || m.left < d.left - 1,
      scrolls: scroller !== null,
      overlap: 0,
    };
    if (eqno) {
      const e = eqno.getBoundingClientRect();
      const dx = Math.min(m.right, e.right) - Math.max(m.left, e.left);
      const dy = Math.min(m.bottom, e.bottom) - Math.max(m.top, e.top);
      if (dx > 0.5 && dy > 0.5) item.overlap = Math.round(dx);
    }
    if (scroller) {
      const s = scroller.getBoundingClientRect();
      const cs = getComputedStyle(scroller);
      item.inside = s.left >= -0.5 && s.right <= innerWidth + 0.5;
      const shadow = /gradient/.test(cs.backgroundImage) && /local/.test(cs.backgroundAttachment);
      const mask = [cs.maskImage, cs.webkitMaskImage].some(v => v && v !== 'none');
      item.cue = shadow || mask;
    }
    out.push(item);
  }
  return out;
}
"""

# Runs in the page: the outermost elements of the article that stick out past the
# screen's right edge (content inside a box that scrolls or clips is not looked into).
OVERFLOW_JS = """
() => {
  const article = document.querySelector('article.bd-article');
  if (!article) return [];
  const out = [];
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_ELEMENT, {
    acceptNode(el) {
      if (el.tagName.startsWith('MJX-')) return NodeFilter.FILTER_REJECT;
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > innerWidth + 1) {
        const cls = typeof el.className === 'string' && el.className.trim()
          ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
        out.push(`${el.tagName.toLowerCase()}${cls} reaches ${Math.round(r.right)} px`);
        return NodeFilter.FILTER_REJECT;
      }
      const ox = getComputedStyle(el).overflowX;
      return ox === 'visible' ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT;
    }
  });
  while (walker.nextNode()) { /* acceptNode collects */ }
  return out.slice(0, 5);
}
"""

# Runs in the page: every image of the article, its alt text and its caption.
FIGURES_JS = """
() => Array.from(document.querySelectorAll('article.bd-article img')).map(img => {
  const figure = img.closest('figure');
  const caption = figure ? figure.querySelector('figcaption') : null;
  return {
    src: img.getAttribute('src') || '',
    alt: img.getAttribute('alt'),
    caption: caption ? caption.textContent.replace(/\\s+/g, ' ').trim() : '',
    numbered: !!(caption && caption.querySelector('.caption-number')),
  };
})
"""

# Runs in the page: the height of the code inputs a reader sees, against the article's.
CODE_SHARE_JS = """
() => {
  const article = document.querySelector('article.bd-article');
  if (!article || !article.querySelector('div.cell')) return null;
  let code = 0, shown = 0;
  for (const el of article.querySelectorAll('div.cell_input')) {
    if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    const h = el.getBoundingClientRect().height;
    if (h > 0) { code += h; shown += 1; }
  }
  return {code, total: article.getBoundingClientRect().height, shown};
}
"""

# Runs in the page: the footer's license statement and its link to nnlib's wheel.
FOOTER_JS = """
() => {
  const footer = document.querySelector('.bd-footer-content');
  if (!footer) return {text: '', wheel: false};
  return {
    text: footer.textContent.replace(/\\s+/g, ' '),
    wheel: Array.from(footer.querySelectorAll('a[href]'))
      .some(a => /_downloads\\/nnlib-[^/]+\\.whl$/.test(a.getAttribute('href'))),
  };
}
"""

FILE_NAME = re.compile(r"^\S+\.(png|jpe?g|gif|svg|webp|pdf)$", re.IGNORECASE)


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


def check_navigation(page, url: str) -> list[str]:
    """Click every visible sidebar button; each must show its table of contents.

    After each button the page is put back as it was (Escape closes a drawer; a sidebar
    that was hidden and shown again is as it was), or reloaded if that fails.
    """
    problems: list[str] = []
    buttons = page.locator(".primary-toggle, .secondary-toggle")
    visible = [i for i in range(buttons.count()) if buttons.nth(i).is_visible()]
    for i in visible:
        button = buttons.nth(i)
        classes = button.get_attribute("class") or ""
        kind = "primary" if "primary-toggle" in classes else "secondary"
        what = "site navigation" if kind == "primary" else "page contents"
        name = button.get_attribute("aria-label") or button.get_attribute("title") or kind
        before = page.evaluate(VISIBLE_TOC_JS, kind)
        button.click()
        if before == 0:
            if not _wait_toc(page, kind, shown=True):
                problems.append(f"button '{name}' does not open the {what} when clicked")
                continue
            page.keyboard.press("Escape")
            if not _wait_toc(page, kind, shown=False):
                page.goto(url, wait_until="load")
            continue
        # Already shown (a desktop sidebar): the button must hide it, then show it again.
        if not _wait_toc(page, kind, shown=False):
            problems.append(f"button '{name}' does nothing when clicked ({what} stays as it was)")
            continue
        button.click()
        if not _wait_toc(page, kind, shown=True):
            problems.append(f"button '{name}' hides the {what} but does not show it again")
            page.goto(url, wait_until="load")
    if not visible and page.evaluate(VISIBLE_TOC_JS, "primary") == 0:
        problems.append("no visible button opens the site navigation, and it is not shown")
    return problems


def _wait_toc(page, kind: str, *, shown: bool) -> bool:
    test = "n > 0" if shown else "n === 0"
    try:
        page.wait_for_function(
            f"(kind) => {{ const n = ({VISIBLE_TOC_JS})(kind); return {test}; }}",
            arg=kind,
            timeout=3000,
        )
        return True
    except Exception:
        return False


def check_layout(page, width: int, *, is_chapter_source: bool) -> list[str]:
    """The reader-facing checks of one loaded page at one width (see the module doc)."""
    problems: list[str] = []
    header = page.evaluate(HEADER_JS)
    for height in header["headers"]:
        problems.append(f"a top header bar is shown ({height} px high)")
    if header["articleHeader"] > 64:  # one row of buttons is 48 px
        problems.append(
            f"the article's header bar wraps onto several rows ({header['articleHeader']} px high)"
        )
    if header["searches"] > 1:
        problems.append(f"{header['searches']} search fields are shown (one is enough)")
    for hit in page.evaluate(RAW_TEX_JS):
        problems.append(f"raw TeX {hit['token']!r} in rendered text: ...{hit['context']}...")
    equations = page.evaluate(EQUATIONS_JS)
    if width >= 1400:
        for eq in equations:
            if eq["overlap"]:
                problems.append(
                    f"equation {eq['label']} overlaps its number by {eq['overlap']} px "
                    f"(the equation runs under its number): {eq['tex']!r}"
                )
    else:
        for eq in equations:
            name = f"equation {eq['label'] or '(unnumbered)'} {eq['tex']!r}"
            if not eq["wide"]:
                continue
            if not eq["scrolls"]:
                problems.append(f"{name} is wider than its box and does not scroll inside it")
            elif not eq["inside"]:
                problems.append(f"{name} scrolls in a box that sticks out of the screen")
            elif not eq["cue"]:
                problems.append(f"{name} is wider than the screen and scrolls with no visible cue")
        for where in page.evaluate(OVERFLOW_JS):
            problems.append(f"the page is wider than the screen: {where}")
    if width >= 1400:
        for img in page.evaluate(FIGURES_JS):
            src = img["src"].rsplit("/", 1)[-1]
            alt = (img["alt"] or "").strip()
            stem = src.rsplit(".", 1)[0]
            if not alt:
                problems.append(f"figure {src} has no alt text")
            elif FILE_NAME.match(alt) or alt in (src, stem):
                problems.append(f"figure {src} has a file name for alt text: {alt!r}")
            if not img["caption"]:
                problems.append(f"figure {src} has no caption")
            elif not img["numbered"]:
                caption = img["caption"][:60]
                problems.append(f"figure {src} has a caption but no number: {caption!r}")
        share = page.evaluate(CODE_SHARE_JS)
        if is_chapter_source and share and share["total"] > 0:
            ratio = share["code"] / share["total"]
            if ratio > CODE_SHARE_MAX:
                problems.append(
                    f"visible code inputs take {ratio:.0%} of the chapter's height "
                    f"({share['shown']} cells shown; at most {CODE_SHARE_MAX:.0%})"
                )
    footer = page.evaluate(FOOTER_JS)
    if "CC BY 4.0" not in footer["text"]:
        problems.append("the footer does not state the license of the text (CC BY 4.0)")
    if not footer["wheel"]:
        problems.append("the footer does not link nnlib's wheel (_downloads/nnlib-*.whl)")
    return problems


def check_page(
    page, url: str, base: str, site: pathlib.Path, shots: pathlib.Path, width: int
) -> list[str]:
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
    rel = url[len(base) :]
    is_chapter_source = (site / "_sources" / rel).with_suffix(".ipynb").is_file()
    problems.extend(check_layout(page, width, is_chapter_source=is_chapter_source))
    if width == max(WIDTHS):  # links are the same at every width
        for href in sorted(set(page.evaluate(LINKS_JS))):
            problem = check_link(href, base, site)
            if problem:
                problems.append(problem)
    shot = shots / (rel.replace("/", "__").removesuffix(".html") + f"-{width}.png")
    try:
        page.screenshot(path=str(shot), full_page=True, timeout=120_000)
    except Exception as exc:  # a slow machine: the checks above still count
        problems.append(f"screenshot failed: {str(exc).splitlines()[0]}")
    problems.extend(check_navigation(page, url))
    page.wait_for_timeout(200)  # let late console errors arrive
    problems.extend(f"console error: {text}" for text in console)
    problems = [f"[{width} px] {p}" for p in problems]
    # A tablet width: the same page, narrowed; only the navigation buttons are checked.
    if width == max(WIDTHS):
        for narrower in NAV_ONLY_WIDTHS:
            page.set_viewport_size({"width": narrower, "height": HEIGHT})
            page.wait_for_timeout(300)
            problems.extend(f"[{narrower} px] {p}" for p in check_navigation(page, url))
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
    parser.add_argument("--page", action="append", help="check only this page (repeatable)")
    parser.add_argument("--width", action="append", type=int, help="only this width (repeatable)")
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
    if not args.page and not args.width:  # a full run: no stale screenshot is left
        for old in shots.glob("*.png"):
            old.unlink()
    server, base = serve(site)
    report: dict[str, list[str]] = defaultdict(list)
    pages = args.page or toc_pages(args.toc)
    widths = args.width or list(WIDTHS)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            for rel in pages:
                for width in widths:
                    page = browser.new_page(viewport={"width": width, "height": HEIGHT})
                    try:
                        found = check_page(page, base + rel, base, site, shots, width)
                    except Exception as exc:  # a crash on one page is a finding, not the end
                        found = [f"[{width} px] check failed: {exc}"]
                    finally:
                        page.close()
                    report[rel].extend(found)
            if not args.page:
                page = browser.new_page()
                report["search.html"] = check_search(page, base)
                page.close()
            browser.close()
    finally:
        server.shutdown()

    failed = {rel: probs for rel, probs in report.items() if probs}
    for rel in [*pages, *([] if args.page else ["search.html"])]:
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
