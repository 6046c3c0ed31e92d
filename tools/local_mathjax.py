"""Sphinx extension: serve MathJax from the built site instead of a CDN.

(It also drops duplicate ``<script>`` entries from each page: sphinx-thebe registers
its inline configuration twice in one build, and the second ``const THEBE_JS_URL``
is a JavaScript error in every page's console.)

The book must work offline and its browser check runs with no internet, so MathJax 3
is taken from the pinned PyPI package ``django-static-mathjax`` (which ships the
MathJax 3.2.2 distribution as static files) and copied into ``_static/mathjax/``:
the ``tex-chtml.js`` component, its fonts, and the extensions it may load on demand.
Registered in ``_config.yml`` under ``sphinx.local_extensions``.
"""

from __future__ import annotations

import importlib.util
import pathlib
import shutil

# What tex-chtml.js loads at run time, relative to MathJax's es5/ folder.
NEEDED = ["tex-chtml.js", "input", "output/chtml", "a11y", "ui", "adaptors", "sre"]


def _es5() -> pathlib.Path:
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("django-static-mathjax is not installed (see requirements.txt)")
    es5 = pathlib.Path(spec.submodule_search_locations[0]) / "static" / "mathjax" / "es5"
    if not (es5 / "tex-chtml.js").is_file():
        raise RuntimeError(f"MathJax's tex-chtml.js not found under {es5}")
    return es5


def _use_local(app) -> None:
    app.config.mathjax_path = "mathjax/tex-chtml.js"  # relative to _static/


def _copy(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    es5 = _es5()
    target = pathlib.Path(app.outdir) / "_static" / "mathjax"
    for rel in NEEDED:
        src, dst = es5 / rel, target / rel
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        elif src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    seen, unique = set(), []
    for js in context.get("script_files", []):
        # an inline script's filename is None or "" depending on how it was added
        key = (getattr(js, "filename", None) or "", tuple(sorted(js.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def setup(app):
    _es5()  # fail early, with a clear message, if the package is missing
    app.connect("builder-inited", _use_local)
    app.connect("build-finished", _copy)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
