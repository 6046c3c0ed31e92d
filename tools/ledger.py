"""The proof ledger: every labelled display equation bound to the cells that check it.

The binding lives in the chapters themselves. The markdown cell that displays an
equation ``$$ ... $$ (label)`` carries, in its cell metadata, one entry per label::

    "ledger": {
      "eq-dW": {
        "what": "weight gradient of a dense layer",
        "kind": "derivative",
        "symbolic": ["vector-derivatives:check-dW-sympy"],
        "library": ["check-linear-nnlib"],
        "numerical": ["check-dense-central"],
        "slip": ["slip-dW-transpose"]
      }
    }

Each of the three kinds of check (``symbolic``: sympy derives it; ``library``: nnlib
computes it; ``numerical``: float64 central differences or another independent
computation measure it) is either a list of code cells, named by their cell ``id``
(``chapter:id`` for a cell of another chapter), or one reason from :data:`REASONS`
saying why that kind does not apply. ``slip`` lists the cells that run the typical
slip of a derivative through its check and show the check failing.

This module reads the notebooks and nothing else. ``tests/test_ledger.py`` enforces
the rules with :func:`problems`; the Sphinx extension ``tools/ledger_page.py`` builds
the page ``book/ledger`` from :func:`collect`, so the page cannot drift from the binding.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

KINDS = ("symbolic", "library", "numerical")

KIND_TITLES = {
    "symbolic": "sympy derives it",
    "library": "nnlib computes it",
    "numerical": "numbers measure it",
}

# What an equation is. A "derivative" states a derivative or a gradient (or a rule
# for computing one); it must be checked three ways or say why a kind does not apply,
# and it must have a negative control (a slip shown failing its check).
EQUATION_KINDS = {
    "derivative": "states a derivative, a gradient or a rule that computes one",
    "definition": "defines a quantity or a forward computation",
    "identity": "an algebraic identity or a bound",
    "fact": "a count or a numeric fact",
}

# Why a kind of check does not apply: a short, fixed vocabulary the ledger counts.
REASONS = {
    "definition": "a definition or a forward formula: nothing to derive or to measure; "
    "the cells that compute it check it",
    "not-in-nnlib": "nnlib has no code that computes this formula",
    "numerical-method": "the formula is the numerical method itself; measuring it "
    "with itself would be circular",
    "no-numbers": "a statement about symbols for every input, which sympy proves "
    "alone; there is no number to measure",
    "fact-by-own-cell": "a numeric fact: the cell that computes it is the check",
}

# Reasons an equation that states a derivative may give (a derivative always has
# something to derive, so "definition" is not among them).
DERIVATIVE_REASONS = {"not-in-nnlib", "numerical-method", "no-numbers"}

DISPLAY_LABEL = re.compile(r"[ \t]*\((?P<label>[^)\s]+)\)")
# TeX that states a derivative: a partial, a prime, a d-gradient such as dW or dZ_2.
DERIVATIVE_TEX = re.compile(
    r"\\partial|\\nabla|\\frac\{d[^}]*\}\{d|(?<![A-Za-z\\])d(?:[A-Z]|\\hat|\\sigma)|"
    r"[A-Za-z)}]'|\\prime"
)

# Calls that assert: the book's own check helpers, numpy's and nnlib's.
ASSERTING_CALLS = {
    "assert_equal",
    "assert_allclose",
    "assert_array_equal",
    "assert_array_almost_equal",
    "assert_almost_equal",
    "agree",
    "fails",
    "gradcheck",
}
# A printed literal success: True/OK printed as such, or output lines that end in one.
LITERAL_OUTPUT = re.compile(r"(?:[:=]\s*|\b)(True|OK)\s*$|\bOK\b", re.MULTILINE)


@dataclass
class Check:
    """A code cell named by a ledger entry."""

    chapter: str  # notebook stem, e.g. "notation"
    cell_id: str

    @property
    def ref(self) -> str:
        return f"{self.chapter}:{self.cell_id}"

    @property
    def anchor(self) -> str:
        """The HTML id and Sphinx label the page links to (Sphinx labels are lower case)."""
        return f"ledger-{self.chapter}-{self.cell_id}".lower()


@dataclass
class Equation:
    chapter: str
    label: str
    tex: str
    cell_id: str
    entry: dict | None
    checks: dict[str, list[Check] | str] = field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        return (self.entry or {}).get("kind")

    @property
    def what(self) -> str:
        return (self.entry or {}).get("what", "")

    @property
    def slips(self) -> list[Check]:
        value = self.checks.get("slip")
        return value if isinstance(value, list) else []

    def fully_checked(self) -> bool:
        return all(isinstance(self.checks.get(k), list) for k in KINDS)


@dataclass
class Chapter:
    stem: str
    path: Path
    title: str
    cells: list[dict]
    equations: list[Equation]

    def cell(self, cell_id: str) -> dict | None:
        for c in self.cells:
            if c.get("id") == cell_id:
                return c
        return None


def displays(text: str) -> list[tuple[str, str | None]]:
    """Every display equation ``$$ ... $$`` of a markdown text as ``(tex, label)``.

    ``$$`` marks open and close in turn; a label ``(name)`` may follow the closing one.
    Fenced code blocks are skipped.
    """
    text = re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.MULTILINE | re.DOTALL)
    found = []
    pos = 0
    while True:
        start = text.find("$$", pos)
        if start < 0:
            return found
        end = text.find("$$", start + 2)
        if end < 0:
            return found
        m = DISPLAY_LABEL.match(text, end + 2)
        found.append((text[start + 2 : end].strip(), m.group("label") if m else None))
        pos = m.end() if m else end + 2


def source(cell: dict) -> str:
    src = cell.get("source", "")
    return src if isinstance(src, str) else "".join(src)


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """The chapter notebooks, in the order of ``_toc.yml``."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    paths = [root / f"{re.sub(r'[.]ipynb$', '', f)}.ipynb" for f in files]
    return [p for p in paths if p.exists()]


def _title(cells: list[dict], fallback: str) -> str:
    for c in cells:
        if c["cell_type"] == "markdown":
            m = re.search(r"^# (.+)$", source(c), re.MULTILINE)
            if m:
                return m.group(1).strip()
    return fallback


def read_chapter(path: Path) -> Chapter:
    nb = json.loads(path.read_text(encoding="utf-8"))
    stem = path.stem
    equations = []
    for c in nb["cells"]:
        if c["cell_type"] != "markdown":
            continue
        entries = c.get("metadata", {}).get("ledger", {})
        for tex, label in displays(source(c)):
            if label is not None:
                equations.append(Equation(stem, label, tex, c.get("id", ""), entries.get(label)))
    return Chapter(stem, path, _title(nb["cells"], stem), nb["cells"], equations)


def collect(root: Path = ROOT) -> list[Chapter]:
    """Every chapter in toc order, each equation's checks resolved to :class:`Check`."""
    chapters = [read_chapter(p) for p in toc_notebooks(root)]
    for ch in chapters:
        for eq in ch.equations:
            for key in (*KINDS, "slip"):
                value = (eq.entry or {}).get(key)
                if isinstance(value, list):
                    eq.checks[key] = [_check(ch.stem, ref) for ref in value]
                elif value is not None:
                    eq.checks[key] = value
    return chapters


def _check(chapter: str, ref: str) -> Check:
    if ":" in ref:
        other, cell_id = ref.split(":", 1)
        return Check(other, cell_id)
    return Check(chapter, ref)


# ------------------------------------------------------------------ what a cell does


def _asserting_names(cells: list[dict]) -> set[str]:
    """Functions defined in the notebook whose body asserts (directly or by a call)."""
    key = tuple(source(c) for c in cells if c["cell_type"] == "code")
    return _asserting_names_of(key)


@functools.lru_cache(maxsize=64)
def _asserting_names_of(sources: tuple[str, ...]) -> frozenset[str]:
    defs: dict[str, ast.AST] = {}
    for src in sources:
        tree = _parse(src)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                defs[node.name] = node
    names = set(ASSERTING_CALLS)
    changed = True
    while changed:
        changed = False
        for name, node in defs.items():
            if name not in names and _asserts(node, names):
                names.add(name)
                changed = True
    return frozenset(names)


@functools.lru_cache(maxsize=4096)
def _parse(src: str) -> ast.AST | None:
    # Cells may hold IPython syntax (%magic); drop those lines before parsing.
    lines = [ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _call_name(node: ast.Call) -> str:
    f = node.func
    if isinstance(f, ast.Attribute):
        return f.attr
    if isinstance(f, ast.Name):
        return f.id
    return ""


def _asserts(tree: ast.AST, names: set[str]) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Raise) and _raises_assertion(node):
            return True
        if isinstance(node, ast.Call) and _call_name(node) in names:
            return True
    return False


def _raises_assertion(node: ast.Raise) -> bool:
    exc = node.exc
    if isinstance(exc, ast.Call):
        exc = exc.func
    return isinstance(exc, ast.Name) and exc.id == "AssertionError"


def cell_asserts(cell: dict, chapter_cells: list[dict]) -> bool:
    """True when the code cell contains an assert, or calls a function that asserts.

    A function counts when it is one of :data:`ASSERTING_CALLS` or is defined in the
    same notebook with a body that asserts.
    """
    tree = _parse(source(cell))
    if tree is None:
        return False
    top_level = ast.Module(
        body=[n for n in tree.body if not isinstance(n, ast.FunctionDef)], type_ignores=[]
    )
    return _asserts(top_level, _asserting_names(chapter_cells))


def literal_successes(cell: dict) -> list[str]:
    """Printed literal successes in a code cell: ``print(..., True)``, an f-string or
    string whose text ends in ``True``/``OK``, or a stored output line that does."""
    found = []
    tree = _parse(source(cell))
    if tree is not None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) == "print":
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and arg.value is True:
                        found.append("print(..., True)")
                    for const in ast.walk(arg):
                        if (
                            isinstance(const, ast.Constant)
                            and isinstance(const.value, str)
                            and LITERAL_OUTPUT.search(const.value)
                        ):
                            found.append(f"print({const.value!r})")
    for out in cell.get("outputs", []):
        text = out.get("text", "")
        text = text if isinstance(text, str) else "".join(text)
        for line in text.splitlines():
            if LITERAL_OUTPUT.search(line):
                found.append(f"output line {line.strip()!r}")
    return found


# ------------------------------------------------------------------ the rules


def problems(chapters: list[Chapter]) -> list[str]:
    """Every broken rule, one sentence each, naming the chapter and the equation."""
    by_stem = {ch.stem: ch for ch in chapters}
    out: list[str] = []
    seen: dict[str, str] = {}
    for ch in chapters:
        labels_here = {eq.label for eq in ch.equations}
        for c in ch.cells:
            stray = set(c.get("metadata", {}).get("ledger", {})) - {
                eq.label for eq in ch.equations if eq.cell_id == c.get("id")
            }
            for label in sorted(stray):
                where = "elsewhere in the chapter" if label in labels_here else "nowhere"
                out.append(
                    f"{ch.stem}: cell {c.get('id')} has a ledger entry for {label}, "
                    f"an equation that this cell does not display ({where})"
                )
        for eq in ch.equations:
            where = f"{ch.stem}: equation {eq.label}"
            if eq.label in seen:
                out.append(f"{where}: label already used in {seen[eq.label]}")
            seen[eq.label] = ch.stem
            if eq.entry is None:
                out.append(f"{where}: no ledger entry (bind it to its checks)")
                continue
            out.extend(_entry_problems(where, eq, ch, by_stem))
        for c in ch.cells:
            if c["cell_type"] == "code":
                for hit in literal_successes(c):
                    out.append(
                        f"{ch.stem}: cell {c.get('id')} prints a literal success ({hit}); "
                        f"print a computed value instead"
                    )
    return out


def _entry_problems(where: str, eq: Equation, ch: Chapter, by_stem: dict) -> list[str]:
    out = []
    entry = eq.entry
    known = {"what", "kind", *KINDS, "slip", "not-a-derivative"}
    for key in sorted(set(entry) - known):
        out.append(f"{where}: unknown ledger key {key!r}")
    if not str(entry.get("what", "")).strip():
        out.append(f"{where}: no 'what' (a few words saying what the equation is)")
    if eq.kind not in EQUATION_KINDS:
        out.append(f"{where}: kind {eq.kind!r} is not one of {sorted(EQUATION_KINDS)}")
    if (
        eq.kind in EQUATION_KINDS
        and eq.kind != "derivative"
        and DERIVATIVE_TEX.search(eq.tex)
        and not str(entry.get("not-a-derivative", "")).strip()
    ):
        out.append(
            f"{where}: its TeX states a derivative but its kind is {eq.kind!r} "
            f"(make it 'derivative', or say why not under 'not-a-derivative')"
        )
    for kind in KINDS:
        value = entry.get(kind)
        if value is None:
            out.append(f"{where}: no {kind} check and no reason why none applies")
        elif isinstance(value, str):
            if value not in REASONS:
                out.append(f"{where}: {kind} reason {value!r} is not one of {sorted(REASONS)}")
            elif eq.kind == "derivative" and value not in DERIVATIVE_REASONS:
                out.append(
                    f"{where}: a derivative cannot skip its {kind} check as {value!r}"
                )
        elif isinstance(value, list) and value:
            out.extend(_cell_problems(where, kind, eq.checks[kind], by_stem))
        else:
            out.append(f"{where}: {kind} must be a non-empty list of cells or a reason")
    slips = entry.get("slip")
    if eq.kind == "derivative":
        if not (isinstance(slips, list) and slips):
            out.append(f"{where}: a derivative needs a negative control under 'slip'")
    if isinstance(slips, list) and slips:
        out.extend(_cell_problems(where, "slip", eq.checks["slip"], by_stem))
    elif slips is not None and not isinstance(slips, list):
        out.append(f"{where}: slip must be a list of cells")
    return out


def _cell_problems(where: str, kind: str, checks: list[Check], by_stem: dict) -> list[str]:
    out = []
    for chk in checks:
        ch = by_stem.get(chk.chapter)
        cell = ch.cell(chk.cell_id) if ch else None
        if cell is None:
            out.append(f"{where}: {kind} names cell {chk.ref}, which does not exist")
        elif cell["cell_type"] != "code":
            out.append(f"{where}: {kind} names cell {chk.ref}, which is not a code cell")
        elif not cell_asserts(cell, ch.cells):
            out.append(f"{where}: {kind} names cell {chk.ref}, which asserts nothing")
    return out


def summary(chapters: list[Chapter]) -> dict:
    """The totals the page shows at its top."""
    eqs = [eq for ch in chapters for eq in ch.equations]
    ders = [eq for eq in eqs if eq.kind == "derivative"]
    reasons: dict[str, int] = {r: 0 for r in REASONS}
    for eq in eqs:
        for kind in KINDS:
            value = eq.checks.get(kind)
            if isinstance(value, str) and value in reasons:
                reasons[value] += 1
    return {
        "equations": len(eqs),
        "derivatives": len(ders),
        "derivatives_three_way": sum(eq.fully_checked() for eq in ders),
        "three_way": sum(eq.fully_checked() for eq in eqs),
        "with_slip": sum(bool(eq.slips) for eq in ders),
        "by_kind": {k: sum(eq.kind == k for eq in eqs) for k in EQUATION_KINDS},
        "reasons": reasons,
        "check_cells": len({c.ref for eq in eqs for k in (*KINDS, "slip")
                            for c in (eq.checks.get(k) if isinstance(eq.checks.get(k), list)
                                      else [])}),
    }


def count_labels(path: Path) -> int:
    """Labelled display equations in a notebook, counted straight from its JSON."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return sum(
        label is not None
        for c in nb["cells"]
        if c["cell_type"] == "markdown"
        for _, label in displays(source(c))
    )


if __name__ == "__main__":  # pragma: no cover - a maintainer's quick look
    chs = collect()
    for p in problems(chs):
        print(p)
    print(json.dumps(summary(chs), indent=1))
