"""The proof ledger: every labelled display equation is bound to the cells that check it.

The rules live in ``tools/ledger.py``; the page ``book/ledger`` is built from the same
binding by ``tools/ledger_page.py``. The first tests apply the rules to the book, one
chapter at a time; the rest plant each kind of defect in a small notebook and show that
the rules catch it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import ledger  # noqa: E402
import ledger_page  # noqa: E402

CHAPTERS = ledger.collect(ROOT)
PROBLEMS = ledger.problems(CHAPTERS)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[ch.stem for ch in CHAPTERS])
def test_every_equation_of_the_chapter_is_bound_to_its_checks(chapter):
    found = [p for p in PROBLEMS if p.startswith(f"{chapter.stem}:")]
    assert not found, "\n".join(found)


def test_the_ledger_counts_every_label_in_the_notebooks():
    counted = sum(ledger.count_labels(p) for p in ledger.toc_notebooks(ROOT))
    assert ledger.summary(CHAPTERS)["equations"] == counted
    # A plain count of "$$ (label)" in the raw JSON agrees too.
    raw = 0
    for p in ledger.toc_notebooks(ROOT):
        nb = json.loads(p.read_text(encoding="utf-8"))
        for c in nb["cells"]:
            if c["cell_type"] == "markdown":
                src = ledger.source(c)
                raw += sum(1 for ln in src.splitlines() if ln.startswith("$$ ("))
    assert raw == counted


def test_prose_pages_hold_no_labelled_equations():
    # A .md page has no code cells, so it could not bind an equation to a check.
    for page in (ROOT / "book").glob("*.md"):
        labels = [lb for _, lb in ledger.displays(page.read_text(encoding="utf-8")) if lb]
        assert not labels, f"{page.name} labels {labels}: move them into a chapter"


def test_the_page_links_every_equation_and_every_check():
    text = ledger_page.render(CHAPTERS)
    for ch in CHAPTERS:
        for eq in ch.equations:
            assert f"{{eq}}`{eq.label}`" in text
            for value in eq.checks.values():
                for chk in value if isinstance(value, list) else []:
                    assert f"<{chk.anchor}>`" in text


def test_every_derivative_links_a_negative_control():
    s = ledger.summary(CHAPTERS)
    assert s["derivatives"] > 0
    assert s["with_slip"] == s["derivatives"]


def test_the_page_source_is_generated_not_typed():
    page = (ROOT / "book" / "ledger.md").read_text(encoding="utf-8")
    assert "{eq}`" not in page, "book/ledger.md must not list equations by hand"


# ------------------------------------------------------------------ planted defects


def _nb(cells):
    return {
        "cells": cells,
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _md(cell_id, text, ledger_meta=None):
    meta = {"ledger": ledger_meta} if ledger_meta is not None else {}
    return {"cell_type": "markdown", "id": cell_id, "metadata": meta, "source": text}


def _code(cell_id, text, output=""):
    outputs = [{"output_type": "stream", "name": "stdout", "text": output}] if output else []
    return {
        "cell_type": "code",
        "id": cell_id,
        "metadata": {},
        "source": text,
        "outputs": outputs,
        "execution_count": 1,
    }


EQ = "# T\n\n$$\ndW = X^\\top dZ\n$$ (eq-dw)\n"
GOOD_ENTRY = {
    "what": "weight gradient",
    "kind": "derivative",
    "symbolic": ["sym"],
    "library": ["lib"],
    "numerical": ["num"],
    "slip": ["slip"],
}
GOOD_CELLS = [
    _code("sym", "assert_equal(a, b)"),
    _code("lib", "np.testing.assert_allclose(a, b)"),
    _code("helper", "def check(a, b):\n    assert abs(a - b) < 1e-7\n"),
    _code("num", "check(1.0, 1.0)"),
    _code("slip", "msg = fails(lambda: agree(2 * a, a))\nprint(msg)"),
]


def _problems(tmp_path, cells):
    (tmp_path / "book").mkdir(exist_ok=True)
    (tmp_path / "book" / "ch.ipynb").write_text(json.dumps(_nb(cells)), encoding="utf-8")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: book/ch\n", encoding="utf-8"
    )
    return ledger.problems(ledger.collect(tmp_path))


def test_a_fully_bound_equation_passes(tmp_path):
    assert _problems(tmp_path, [_md("m", EQ, {"eq-dw": GOOD_ENTRY}), *GOOD_CELLS]) == []


def test_a_planted_unbound_equation_fails(tmp_path):
    cells = [_md("m", EQ + "\n$$\ny = 2x\n$$ (eq-new)\n", {"eq-dw": GOOD_ENTRY}), *GOOD_CELLS]
    assert _problems(tmp_path, cells) == ["ch: equation eq-new: no ledger entry (bind it to "
                                          "its checks)"]


def test_an_unlabelled_display_is_not_counted_and_a_stray_entry_fails(tmp_path):
    text = "$$\na = b\n$$\n\nthen\n\n" + EQ
    stray = {"eq-dw": GOOD_ENTRY, "eq-gone": GOOD_ENTRY}
    found = _problems(tmp_path, [_md("m", text, stray), *GOOD_CELLS])
    assert found == [
        "ch: cell m has a ledger entry for eq-gone, an equation that this cell does not "
        "display (nowhere)"
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"library": ["nope"]}, "library names cell ch:nope, which does not exist"),
        ({"numerical": ["m"]}, "numerical names cell ch:m, which is not a code cell"),
        ({"symbolic": ["quiet"]}, "symbolic names cell ch:quiet, which asserts nothing"),
        ({"numerical": None}, "no numerical check and no reason why none applies"),
        ({"symbolic": "because"}, "symbolic reason 'because' is not one of"),
        ({"library": "definition"}, "a derivative cannot skip its library check"),
        ({"slip": None}, "a derivative needs a negative control under 'slip'"),
        ({"slip": ["quiet"]}, "slip names cell ch:quiet, which asserts nothing"),
        ({"what": ""}, "no 'what'"),
        ({"kind": "definition"}, "its TeX states a derivative but its kind is 'definition'"),
        ({"kind": "lemma"}, "kind 'lemma' is not one of"),
        ({"typo": 1}, "unknown ledger key 'typo'"),
    ],
)
def test_each_planted_defect_in_an_entry_fails(tmp_path, change, expected):
    entry = {**GOOD_ENTRY, **change}
    entry = {k: v for k, v in entry.items() if v is not None}
    quiet = _code("quiet", "x = 1\nprint(x)  # looks like a check, asserts nothing")
    found = _problems(tmp_path, [_md("m", EQ, {"eq-dw": entry}), *GOOD_CELLS, quiet])
    assert len(found) == 1 and expected in found[0], found
    assert found[0].startswith("ch: equation eq-dw:")


@pytest.mark.parametrize(
    "cell",
    [
        _code("c", 'assert x\nprint("the same as the hand products:", True)'),
        _code("c", 'assert x\nprint(f"relative error < 1e-7: True")'),
        _code("c", 'assert x\nprint("OK")'),
        _code("c", "assert x\nprint(f'agrees: {err < 1e-7}')", "agrees: True\n"),
    ],
    ids=["print-True", "fstring-True", "OK", "output-True"],
)
def test_a_printed_literal_success_fails(tmp_path, cell):
    found = _problems(tmp_path, [_md("m", EQ, {"eq-dw": GOOD_ENTRY}), *GOOD_CELLS, cell])
    assert len(found) == 1 and "prints a literal success" in found[0], found


def test_a_computed_value_is_not_a_literal_success(tmp_path):
    cell = _code("c", "assert x\nprint(f'{err:.2g}')", "relative error 0.67\nTrueType font\n")
    assert _problems(tmp_path, [_md("m", EQ, {"eq-dw": GOOD_ENTRY}), *GOOD_CELLS, cell]) == []


def test_an_assert_inside_an_unused_function_does_not_count(tmp_path):
    cell = _code("sym", "def later():\n    assert False\n")
    cells = [_md("m", EQ, {"eq-dw": GOOD_ENTRY}), cell, *GOOD_CELLS[1:]]
    found = _problems(tmp_path, cells)
    assert found == ["ch: equation eq-dw: symbolic names cell ch:sym, which asserts nothing"]


def test_a_reference_to_another_chapter_resolves(tmp_path):
    (tmp_path / "book").mkdir()
    other = _nb([_code("far", "assert 1 + 1 == 2")])
    (tmp_path / "book" / "other.ipynb").write_text(json.dumps(other), encoding="utf-8")
    entry = {**GOOD_ENTRY, "symbolic": ["other:far"], "library": ["other:missing"]}
    (tmp_path / "book" / "ch.ipynb").write_text(
        json.dumps(_nb([_md("m", EQ, {"eq-dw": entry}), *GOOD_CELLS])), encoding="utf-8"
    )
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: book/other\n"
        "  - file: book/ch\n",
        encoding="utf-8",
    )
    found = ledger.problems(ledger.collect(tmp_path))
    assert found == ["ch: equation eq-dw: library names cell other:missing, which does not exist"]
