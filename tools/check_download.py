"""Run a chapter the way a reader of the site does, from the built site alone.

A reader who follows the page "Run it yourself" downloads three files from the site
(the chapter's notebook, nnlib's wheel and ``constraints.txt``) into one folder, creates
a virtual environment, runs the page's ``pip install`` command there, and runs the
notebook. This script does exactly that, in a temporary folder, with files taken only
from the built site (``_build/html``):

* the notebook the chapter's download button offers, ``_sources/book/<chapter>.ipynb``;
* ``_downloads/nnlib-<version>-py3-none-any.whl`` and ``_downloads/constraints.txt``;
* the ``pip install`` command, read from the code blocks of
  ``book/run-it-yourself.html`` (so the page and this test cannot drift apart);

then loads the handwritten digits that ship inside the wheel and executes the notebook
(``notation`` unless ``--chapter`` says otherwise) top to bottom with that environment's
own Jupyter (``jupyter nbconvert --execute``), with no access to the repository: the
working folder is the temporary one and nnlib comes from the wheel. The only downloads are pip's
installs of the pinned packages (from pip's cache when ``make venv`` has filled it).

Usage: ``python tools/check_download.py [--site _build/html] [--chapter notation ...]``
"""

from __future__ import annotations

import argparse
import html
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import venv

ROOT = pathlib.Path(__file__).resolve().parent.parent
RUN_PAGE = "book/run-it-yourself.html"
DEFAULT_CHAPTERS = ["notation"]
DIGITS = (
    "import nnlib; d = nnlib.load_digits(); "
    "assert len(d.X_train) + len(d.X_test) == 5000, (d.X_train.shape, d.X_test.shape)"
)


def page_commands(page: pathlib.Path) -> list[str]:
    """The shell commands of the page's code blocks (continuation lines joined)."""
    text = page.read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"<pre[^>]*>(.*?)</pre>", text, flags=re.DOTALL):
        plain = html.unescape(re.sub(r"<[^>]+>", "", block))
        commands.extend(
            line.strip() for line in plain.replace("\\\n", " ").splitlines() if line.strip()
        )
    return commands


def pip_install_args(page: pathlib.Path) -> list[str]:
    found = [c for c in page_commands(page) if c.startswith("pip install ")]
    if len(found) != 1:
        raise SystemExit(f"{page}: expected one `pip install` command, found {found}")
    return shlex.split(found[0])[2:]


def run(command: list[str], cwd: pathlib.Path, env: dict[str, str]) -> None:
    print("$", " ".join(shlex.quote(c) for c in command), flush=True)
    start = time.monotonic()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    print(f"  ({time.monotonic() - start:.0f} s)", flush=True)
    if result.returncode != 0:
        sys.stdout.write(result.stdout[-4000:])
        sys.stdout.write(result.stderr[-4000:])
        raise SystemExit(f"failed (exit {result.returncode}): {' '.join(command)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=pathlib.Path, default=ROOT / "_build" / "html")
    parser.add_argument("--chapter", action="append", help="chapter to run (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    site = args.site.resolve()
    chapters = args.chapter or DEFAULT_CHAPTERS
    page = site / RUN_PAGE
    if not page.is_file():
        print(f"no {RUN_PAGE} in {site}: run `make book` first")
        return 1
    wheels = sorted((site / "_downloads").glob("nnlib-*.whl"))
    constraints = site / "_downloads" / "constraints.txt"
    if len(wheels) != 1 or not constraints.is_file():
        print(f"the site must offer one nnlib wheel and constraints.txt: {wheels}")
        return 1
    notebooks = [site / "_sources" / "book" / f"{name}.ipynb" for name in chapters]
    for nb in notebooks:
        if not nb.is_file():
            print(f"the site offers no download {nb.relative_to(site)}")
            return 1
    install = pip_install_args(page)
    if wheels[0].name not in install:
        print(f"{RUN_PAGE} installs {install}, not the site's wheel {wheels[0].name}")
        return 1

    start = time.monotonic()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="run-a-chapter-"))
    try:
        # The reader's folder: the downloaded files only.
        for path in (wheels[0], constraints, *notebooks):
            shutil.copy2(path, tmp / path.name)
        env_dir = tmp / "backprop-env"
        # The environment gets no pip of its own (ensurepip would byte-compile one: slow);
        # this Python's pip installs into it (`pip --python`), with the page's arguments.
        venv.EnvBuilder(with_pip=False).create(env_dir)
        bin_dir = env_dir / "bin"
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
        }
        env.update(
            PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
            VIRTUAL_ENV=str(env_dir),
            # Jupyter's user folders inside the reader's folder: no kernel or setting of
            # this machine's user leaks in.
            HOME=str(tmp),
            JUPYTER_CONFIG_DIR=str(tmp / ".jupyter"),
            JUPYTER_DATA_DIR=str(tmp / ".jupyter-data"),
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            # Use the pip cache of the user running the check, as a reader's pip would.
            PIP_CACHE_DIR=os.environ.get(
                "PIP_CACHE_DIR", str(pathlib.Path.home() / ".cache" / "pip")
            ),
            MPLBACKEND="Agg",
        )
        # --no-compile: pip skips byte-compiling every installed module (most of the
        # install's time on a busy machine); Python compiles what the chapter imports.
        pip = [sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install"]
        pip += ["--quiet", "--no-compile"]
        run([*pip, *install], tmp, env)
        # The digits ship inside the wheel (the softmax chapter trains on them).
        run([str(bin_dir / "python"), "-c", DIGITS], tmp, env)
        for nb in notebooks:
            run(
                [
                    str(bin_dir / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                    "--ExecutePreprocessor.timeout=300",
                    "--ExecutePreprocessor.kernel_name=python3",
                    "--output", f"{nb.stem}.executed.ipynb", nb.name,
                ],
                tmp,
                env,
            )
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    names = ", ".join(nb.name for nb in notebooks)
    print(f"ran {names} from the site's downloads in a fresh environment "
          f"({time.monotonic() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
