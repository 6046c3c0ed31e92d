"""Sphinx extension: the page ``book/ledger``, generated from the chapters' binding.

Two hooks:

* every code cell that a ledger entry names gets an anchor (an HTML id and a Sphinx
  label ``ledger-<chapter>-<cell id>``), so the page can link straight to it;
* the page's source, ``book/ledger.md``, gets the tables appended when Sphinx reads it:
  totals, then chapter by chapter every labelled equation with an ``{eq}`` link, what it
  is, and for each kind of check the cells that check it or the reason none applies.

Nothing on the page is typed by hand, so it cannot drift from the notebooks; the rules
it relies on are enforced by ``tests/test_ledger.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from docutils import nodes

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ledger  # noqa: E402  (tools/ledger.py, beside this file)

PAGE = "book/ledger"


def _referenced(chapters) -> dict[str, set[str]]:
    cells: dict[str, set[str]] = {}
    for ch in chapters:
        for eq in ch.equations:
            for value in eq.checks.values():
                if isinstance(value, list):
                    for chk in value:
                        cells.setdefault(chk.chapter, set()).add(chk.cell_id)
    return cells


def add_cell_anchors(app, doctree) -> None:
    """Give every cell a ledger entry names an id and a label to link to."""
    docname = app.env.docname
    path = Path(app.srcdir) / f"{docname}.ipynb"
    if not path.exists():
        return
    wanted = _referenced(ledger.collect(Path(app.srcdir))).get(path.stem, set())
    if not wanted:
        return
    nb = json.loads(path.read_text(encoding="utf-8"))
    ids = [c.get("id") for c in nb["cells"]]
    std = app.env.get_domain("std")
    for node in doctree.findall(nodes.container):
        if node.get("nb_element") != "cell_code":
            continue
        index = node.get("cell_index")
        if index is None or index >= len(ids) or ids[index] not in wanted:
            continue
        anchor = ledger.Check(path.stem, ids[index]).anchor
        node["ids"].append(anchor)
        std.anonlabels[anchor] = (docname, anchor)
        std.labels[anchor] = (docname, anchor, f"{path.stem}: {ids[index]}")


def _cell_link(chk: ledger.Check, here: str) -> str:
    text = chk.cell_id if chk.chapter == here else f"{chk.chapter}: {chk.cell_id}"
    return f"{{ref}}`{text} <{chk.anchor}>`"


def _kind_cell(value, here: str) -> str:
    if isinstance(value, list):
        return "<br>".join(_cell_link(c, here) for c in value)
    if isinstance(value, str):
        return f"*{value}*"
    return "**missing**"


def render(chapters) -> str:
    """The generated part of the page, in MyST markdown."""
    s = ledger.summary(chapters)
    lines = [
        "## Totals",
        "",
        f"- **{s['equations']}** labelled display equations in "
        f"{sum(bool(ch.equations) for ch in chapters)} chapters.",
        f"- **{s['derivatives']}** of them state a derivative, a gradient or a rule that "
        f"computes one; **{s['derivatives_three_way']}** of those are checked all three "
        f"ways, and every one of the others gives a reason for the kind it lacks.",
        f"- **{s['with_slip']}** of the {s['derivatives']} derivatives link to a "
        f"negative control: the typical slip of that formula, run through its check and "
        f"shown failing.",
        f"- The others: {s['by_kind']['definition']} definitions and forward formulas, "
        f"{s['by_kind']['identity']} identities and bounds, {s['by_kind']['fact']} "
        f"numeric facts ({s['three_way']} equations in all are checked three ways).",
        f"- **{s['check_cells']}** code cells carry these checks.",
        "",
        "A kind of check that does not apply is marked with one of these reasons "
        "(the number is how often it is used):",
        "",
        "| reason | meaning | used |",
        "|---|---|---|",
    ]
    for reason, meaning in ledger.REASONS.items():
        lines.append(f"| *{reason}* | {meaning} | {s['reasons'][reason]} |")
    lines.append("")
    for ch in chapters:
        if not ch.equations:
            continue
        lines += [
            f"## {ch.title}",
            "",
            f"Chapter {{doc}}`{ch.stem}`: {len(ch.equations)} labelled equations.",
            "",
            "| eq. | what it is | sympy | nnlib | numbers | slip shown failing |",
            "|---|---|---|---|---|---|",
        ]
        for eq in ch.equations:
            what = eq.what.replace("|", "\\|") or "**no entry**"
            if eq.kind and eq.kind != "derivative":
                what += f" ({eq.kind})"
            slip = _kind_cell(eq.checks.get("slip"), ch.stem) if eq.slips else "—"
            row = [
                f"{{eq}}`{eq.label}`",
                what,
                *(_kind_cell(eq.checks.get(k), ch.stem) for k in ledger.KINDS),
                slip,
            ]
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    return "\n".join(lines)


def append_tables(app, docname, source) -> None:
    if docname == PAGE:
        source[0] += "\n\n" + render(ledger.collect(Path(app.srcdir))) + "\n"


def always_outdated(app, env, added, changed, removed):
    # The page depends on every notebook's metadata: re-read it at every build.
    return [PAGE] if PAGE in env.found_docs else []


def setup(app):
    app.connect("doctree-read", add_cell_anchors)
    app.connect("source-read", append_tables)
    app.connect("env-get-outdated", always_outdated)
    return {"parallel_read_safe": False, "parallel_write_safe": True, "version": "1"}
