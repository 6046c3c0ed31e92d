"""Wall time of the book's own checks: ``pytest --nbval`` per notebook and in total,
and a strict ``jupyter-book build`` from an empty cache.

The build goes to a temporary folder (``--path-output``), so the project's own
``_build/`` and its execution cache are left alone and the cache really is empty.

Usage (from the repository root, in the project's environment):
``.venv/bin/python benchmarks/book_time.py``
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

from _common import machine_header

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(sys.executable).parent


# As `make test` runs pytest: one BLAS thread per process.
ONE_THREAD = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def timed(cmd: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(cmd)}\n{result.stdout[-3000:]}")
    return elapsed


def main() -> None:
    print(machine_header())
    pytest = [str(BIN / "pytest"), "-q", "-p", "no:cacheprovider"]
    print("\npytest --nbval, one notebook at a time (serial, one process)")
    total = 0.0
    for nb in sorted((ROOT / "book").glob("*.ipynb")):
        t = timed([*pytest, "--nbval", "-n", "0", str(nb.relative_to(ROOT))], ONE_THREAD)
        total += t
        print(f"  {nb.name:34} {t:6.1f} s")
    print(f"  {'sum':34} {total:6.1f} s")
    t_all = timed(["make", "test"])
    print(f"\nmake test (pytest --nbval: all unit tests and notebooks, 2 workers): {t_all:.1f} s")
    out = pathlib.Path(tempfile.mkdtemp(prefix="book-build-"))
    try:
        t_build = timed(
            [str(BIN / "jupyter-book"), "build", "-W", "-n", "--keep-going",
             "--path-output", str(out), "."]
        )
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print(f"strict jupyter-book build from an empty cache: {t_build:.1f} s")


if __name__ == "__main__":
    main()
