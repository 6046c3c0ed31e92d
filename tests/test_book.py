"""Structure of the book: the table of contents, the stored notebook outputs, the config.

These tests read files only; they never execute a notebook (``pytest --nbval`` does
that, cell by cell, against the outputs checked here to be present and clean).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"

NBVAL_TAGS = {
    "nbval-ignore-output",
    "nbval-skip",
    "nbval-check-output",
    "nbval-raises-exception",
}
NBVAL_COMMENT = re.compile(r"^\s*#\s*NBVAL_[A-Z_]+\s*$")
OBJECT_REPR = re.compile(r"<[^<>\n]* at 0x[0-9a-fA-F]+>")


def book_pages() -> list[Path]:
    """Every .md and .ipynb page under book/, without checkpoint copies."""
    pages = [*BOOK.rglob("*.md"), *BOOK.rglob("*.ipynb")]
    return sorted(p for p in pages if ".ipynb_checkpoints" not in p.parts)


def notebooks() -> list[Path]:
    return [p for p in book_pages() if p.suffix == ".ipynb"]


def toc_entries() -> list[str]:
    """Every `file:` (and the root) of _toc.yml, as written: paths without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    found = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return found


def strip_suffix(path: str) -> str:
    return re.sub(r"\.(md|ipynb)$", "", path)


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def source(cell: dict) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def tags(cell: dict) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def nb_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


# ---------------------------------------------------------------- table of contents


def test_toc_format_and_root():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    assert toc["format"] == "jb-book"
    assert strip_suffix(toc["root"]) == "book/intro"


def test_every_page_is_in_the_toc():
    listed = {strip_suffix(e) for e in toc_entries()}
    missing = [nb_id(p) for p in book_pages() if strip_suffix(nb_id(p)) not in listed]
    assert not missing, f"pages under book/ missing from _toc.yml: {missing}"


def test_every_toc_entry_exists():
    absent = []
    for entry in toc_entries():
        stem = strip_suffix(entry)
        candidates = [ROOT / f"{stem}.md", ROOT / f"{stem}.ipynb"]
        if sum(c.exists() for c in candidates) != 1:
            absent.append(entry)
    assert not absent, f"_toc.yml entries with no page (or both .md and .ipynb): {absent}"


def test_toc_has_no_duplicates():
    entries = [strip_suffix(e) for e in toc_entries()]
    assert len(entries) == len(set(entries)), entries


def test_front_and_back_matter_order():
    entries = [strip_suffix(e) for e in toc_entries()]
    assert entries[:2] == ["book/intro", "book/notation"]
    assert entries[-4:] == [
        "book/ledger", "book/glossary", "book/bibliography", "book/status"
    ]


# ---------------------------------------------------------------- configuration


def test_config_is_strict():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["only_build_toc_files"] is True
    execute = config["execute"]
    assert execute["execute_notebooks"] == "cache"
    assert execute["allow_errors"] is False
    assert execute["raise_on_error"] is True
    sphinx = config["sphinx"]
    assert {"sphinx_exercise", "sphinx_proof"} <= set(sphinx["extra_extensions"])
    assert sphinx["recursive_update"] is True
    assert sphinx["config"]["math_numfig"] is True
    assert sphinx["config"]["html_theme_options"]["use_download_button"] is True
    for pattern in (".venv", "_build"):
        assert pattern in config["exclude_patterns"]


def test_requirements_are_pinned_exactly():
    lines = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[-1] == "-e ."
    loose = [line for line in lines[:-1] if not re.fullmatch(r"[A-Za-z0-9_.\-\[\],]+==\S+", line)]
    assert not loose, f"requirements not pinned with ==: {loose}"
    pins = dict(line.split("==", 1) for line in lines[:-1])
    pins = {name.lower().replace("_", "-"): pin for name, pin in pins.items()}
    assert pins["jupyter-book"] == "1.0.4.post1"
    for name in (
        "numpy",
        "sympy",
        "matplotlib",
        "nbval",
        "pytest",
        "ipykernel",
        "sphinx-exercise",
        "sphinx-proof",
        "jupyterlab",
        "ruff",
    ):
        assert name in pins, f"{name} is not pinned in requirements.txt"


# ---------------------------------------------------------------- stored notebook outputs


@pytest.mark.parametrize("path", notebooks(), ids=nb_id)
def test_notebook_uses_python3_kernel(path):
    assert load(path)["metadata"].get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", notebooks(), ids=nb_id)
def test_notebook_ran_top_to_bottom(path):
    """Every code cell was executed, in order, in one clean run: counts are 1, 2, ..., n."""
    counts = [c.get("execution_count") for c in code_cells(load(path))]
    unexecuted = [i for i, n in enumerate(counts) if n is None]
    assert not unexecuted, (
        f"code cells {unexecuted} have no stored execution; run `make execute NB={nb_id(path)}`"
    )
    assert counts == list(range(1, len(counts) + 1)), (
        f"execution counts {counts} are not those of a clean top-to-bottom run; "
        f"run `make execute NB={nb_id(path)}`"
    )


@pytest.mark.parametrize("path", notebooks(), ids=nb_id)
def test_notebook_has_no_error_outputs(path):
    """Only a cell tagged `raises-exception` may store an error, and it must."""
    bad = []
    for i, cell in enumerate(code_cells(load(path))):
        has_error = any(o["output_type"] == "error" for o in cell.get("outputs", []))
        if has_error != ("raises-exception" in tags(cell)):
            bad.append(i)
    assert not bad, (
        f"code cells {bad}: an error output without the raises-exception tag, or the reverse"
    )


@pytest.mark.parametrize("path", notebooks(), ids=nb_id)
def test_notebook_has_no_stderr_or_object_reprs(path):
    """Warnings (stderr) and reprs such as `<... at 0x7f...>` are not content."""
    bad = []
    for i, cell in enumerate(code_cells(load(path))):
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream" and out["name"] == "stderr":
                bad.append((i, "stderr"))
            texts = []
            if out["output_type"] == "stream":
                texts.append(out["text"])
            if out["output_type"] == "execute_result":
                texts.append(out.get("data", {}).get("text/plain", ""))
            text = "".join("".join(t) if isinstance(t, list) else t for t in texts)
            if OBJECT_REPR.search(text) or "<matplotlib." in text:
                bad.append((i, "object repr"))
    assert not bad, f"code cells with stderr output or object reprs: {bad}"


@pytest.mark.parametrize("path", notebooks(), ids=nb_id)
def test_nbval_markers_say_why(path):
    """A cell that nbval treats specially carries a comment line explaining why."""
    bad = []
    for i, cell in enumerate(code_cells(load(path))):
        lines = source(cell).splitlines()
        markers = tags(cell) & NBVAL_TAGS
        marker_lines = [line for line in lines if NBVAL_COMMENT.match(line)]
        if not markers and not marker_lines:
            continue
        reasons = [
            line
            for line in lines
            if line.lstrip().startswith("#")
            and not NBVAL_COMMENT.match(line)
            and len(line.lstrip("# ").strip()) >= 10
        ]
        if not reasons:
            bad.append(i)
    assert not bad, f"code cells {bad} use an nbval marker without a `# why` comment"


# ---------------------------------------------------------------- pages


KOREAN_TERMS = [
    "역전파",
    "순전파",
    "경사 하강법",
    "손실 함수",
    "비용 함수",
    "기울기",
    "그레이디언트",
    "연쇄 법칙",
    "합성함수",
    "편미분",
    "도함수",
    "전치 행렬",
    "원소별 곱셈",
    "가중치",
    "절편",
    "편향",
    "은닉층",
    "출력층",
    "입력층",
    "활성화 함수",
    "시그모이드",
    "로지스틱 손실",
    "교차 엔트로피",
    "소프트맥스",
    "학습률",
    "로짓",
    "비선형성",
    "평균 그레이디언트",
]


def test_glossary_has_every_korean_term_of_the_notes():
    text = (BOOK / "glossary.md").read_text(encoding="utf-8")
    assert "```{glossary}" in text and ":sorted:" in text
    missing = [term for term in KOREAN_TERMS if term not in text]
    assert not missing, f"Korean terms missing from the glossary: {missing}"


def test_bibliography_lists_all_references():
    text = (BOOK / "bibliography.md").read_text(encoding="utf-8")
    assert "```{bibliography}" in text and ":all:" in text


def test_status_page_has_execution_table():
    assert "{nb-exec-table}" in (BOOK / "status.md").read_text(encoding="utf-8")
