"""Sphinx extension: what the book's site adds to the theme.

* **nnlib as a wheel.** At the end of every HTML build, nnlib is built into a wheel from
  this repository (``pip wheel --no-deps --no-build-isolation --no-index``: offline, with
  the pinned setuptools of ``requirements.txt``) and copied to
  ``_downloads/nnlib-<version>-py3-none-any.whl`` in the site, next to
  ``_downloads/constraints.txt`` (every pinned version the site was built with). The
  page ``book/run-it-yourself.md`` says how to use them; the footer of every page links
  to both. The wheel is rebuilt only when nnlib's sources or metadata change.
* **Footer and header items.** The templates under ``tools/templates/`` (the license
  line, the run-it-yourself line and the run button of chapter pages) are put on the
  template path; ``_config.yml`` lists them in the theme's options.
* **Styles.** ``tools/static/book.css`` (scroll cues for wide equations, code and tables,
  light figures in dark mode) is added to every page.
* **Substitutions.** ``{{ nnlib_wheel }}`` and ``{{ nnlib_constraints }}`` in a page
  are links to the wheel and to the constraints file (for pages under ``book/``), so no
  link hard-codes nnlib's version.

Registered in ``_config.yml`` under ``sphinx.local_extensions``.
"""

from __future__ import annotations

import hashlib
import pathlib
import shutil
import subprocess
import sys
import tempfile
import tomllib

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
# What goes into the wheel (pyproject.toml names README.md and LICENSE).
WHEEL_SOURCES = ["pyproject.toml", "README.md", "LICENSE"]


def project_version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def wheel_name() -> str:
    return f"nnlib-{project_version()}-py3-none-any.whl"


def _source_files() -> list[pathlib.Path]:
    files = [ROOT / name for name in WHEEL_SOURCES]
    for path in sorted((ROOT / "nnlib").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files.append(path)
    return files


def _sources_digest() -> str:
    digest = hashlib.sha256()
    for path in _source_files():
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_wheel(cache: pathlib.Path) -> pathlib.Path:
    """nnlib's wheel, built offline from a clean copy of its sources (cached by content)."""
    target = cache / _sources_digest() / wheel_name()
    if target.is_file():
        return target
    with tempfile.TemporaryDirectory(prefix="nnlib-wheel-") as tmp:
        src = pathlib.Path(tmp) / "src"
        src.mkdir()
        for name in WHEEL_SOURCES:
            shutil.copy2(ROOT / name, src / name)
        shutil.copytree(
            ROOT / "nnlib", src / "nnlib", ignore=shutil.ignore_patterns("__pycache__")
        )
        out = pathlib.Path(tmp) / "out"
        command = [
            sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--no-build-isolation", "--no-index", "--wheel-dir", str(out),
            str(src),
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        built = out / wheel_name()
        if result.returncode != 0 or not built.is_file():
            raise RuntimeError(
                f"building nnlib's wheel failed ({' '.join(command)}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built, target)
    return target


def constraints_text() -> str:
    """requirements.txt without the editable install: the versions the site was built with."""
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    pins = [line for line in lines if "==" in line and not line.lstrip().startswith("#")]
    header = [
        "# The exact versions of every package this book's site was built and tested with.",
        "# Use it as a constraints file: pip install -c constraints.txt ...",
    ]
    return "\n".join(header + pins) + "\n"


def _config_inited(app, config) -> None:
    config.templates_path.append(str(HERE / "templates"))
    config.html_static_path.append(str(HERE / "static"))
    link = (
        f'<a class="reference download" href="../_downloads/{wheel_name()}">'
        f"<code>{wheel_name()}</code></a>"
    )
    constraints = (
        '<a class="reference download" href="../_downloads/constraints.txt">'
        "<code>constraints.txt</code></a>"
    )
    config.myst_substitutions = {
        **config.myst_substitutions,
        "nnlib_wheel": link,
        "nnlib_constraints": constraints,
    }


def _page_context(app, pagename, templatename, context, doctree) -> None:
    context["nnlib_wheel"] = f"_downloads/{wheel_name()}"
    context["nnlib_constraints"] = "_downloads/constraints.txt"


def _finish(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = pathlib.Path(app.outdir)
    wheel = build_wheel(outdir.parent / ".nnlib-wheel")
    downloads = outdir / "_downloads"
    downloads.mkdir(exist_ok=True)
    for old in downloads.glob("nnlib-*.whl"):
        old.unlink()
    shutil.copy2(wheel, downloads / wheel.name)
    (downloads / "constraints.txt").write_text(constraints_text(), encoding="utf-8")
    # Sphinx copies html_static_path only when some page is rewritten: a change to the
    # CSS alone would not reach the site without this.
    shutil.copytree(HERE / "static", outdir / "_static", dirs_exist_ok=True)


def setup(app):
    app.connect("config-inited", _config_inited)
    app.connect("html-page-context", _page_context)
    app.connect("build-finished", _finish)
    app.add_css_file("book.css")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
