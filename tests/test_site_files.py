"""What the site offers a reader beyond the chapters: licenses, nnlib's wheel and the
instructions to run a chapter, and the theme pins that keep its navigation working.

These tests read files only; `make check-site` and `make check-download` check the built
site in a browser and by running a downloaded chapter.
"""

from __future__ import annotations

import re
import shlex
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import book_site  # noqa: E402  (tools/ is not a package)
import check_download  # noqa: E402


def pins() -> dict[str, str]:
    found = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.strip().split("==", 1)
            found[name.lower().replace("_", "-")] = version
    return found


def pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def test_code_is_mit_licensed():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    project = pyproject()["project"]
    assert project["license"] == "MIT AND CC-BY-SA-3.0"  # the digits keep their license
    assert "LICENSE" in project["license-files"]
    assert "nnlib/data/README.md" in project["license-files"]


def test_licenses_name_the_text_and_data_licenses():
    text = (ROOT / "LICENSES.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in text and "CC BY-SA 3.0" in text and "MIT" in text
    footer = (ROOT / "tools" / "templates" / "book-license.html").read_text(encoding="utf-8")
    assert "CC BY 4.0" in footer and "CC BY-SA 3.0" in footer and "MIT" in footer


def test_footer_items_are_configured():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    sphinx = config["sphinx"]
    assert sphinx["local_extensions"]["book_site"] == "tools/"
    options = sphinx["config"]["html_theme_options"]
    for item in ("book-license.html", "run-it-yourself-footer.html"):
        assert item in options["footer_content_items"]
        assert (ROOT / "tools" / "templates" / item).is_file()
    for item in options["article_header_end"]:
        if item != "article-header-buttons.html":
            assert (ROOT / "tools" / "templates" / item).is_file()


def test_theme_pins_keep_the_navigation_working():
    # sphinx-book-theme 1.3.0 with pydata-sphinx-theme 0.17 ships sidebar buttons that
    # open nothing (pydata-sphinx-theme#2451); see requirements.txt.
    found = pins()
    assert found["jupyter-book"] == "1.0.4.post1"
    assert found["sphinx-book-theme"] == "1.2.0"
    assert found["pydata-sphinx-theme"] == "0.16.1"
    build_requires = pyproject()["build-system"]["requires"]
    assert f"setuptools=={found['setuptools']}" in build_requires


def test_run_page_installs_the_pinned_versions():
    page = ROOT / "book" / "run-it-yourself.md"
    text = page.read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL)
    commands = [
        line.strip()
        for block in blocks
        for line in block.replace("\\\n", " ").splitlines()
        if line.strip().startswith("pip install")
    ]
    assert len(commands) == 1, commands
    args = shlex.split(commands[0])[2:]
    assert args[:2] == ["-c", "constraints.txt"]
    assert book_site.wheel_name() in args
    found = pins()
    for name in ("numpy", "sympy", "matplotlib", "jupyterlab"):
        assert f"{name}=={found[name]}" in args, f"{name} is not pinned as in requirements.txt"
    assert "{{ nnlib_wheel }}" in text and "{{ nnlib_constraints }}" in text


def test_wheel_name_follows_the_project_version():
    version = pyproject()["project"]["version"]
    assert book_site.wheel_name() == f"nnlib-{version}-py3-none-any.whl"


def test_constraints_hold_every_pin_and_no_editable_install():
    text = book_site.constraints_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert "-e ." not in lines
    assert len(lines) == len(pins())


def test_download_check_reads_the_pip_command_like_a_shell(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        '<div class="highlight"><pre><span></span>pip<span class="w"> </span>install'
        " -c constraints.txt nnlib-0.1.0-py3-none-any.whl \\\n"
        "    numpy==2.4.6 jupyterlab==4.6.6\n</pre></div>",
        encoding="utf-8",
    )
    assert check_download.pip_install_args(page) == [
        "-c", "constraints.txt", "nnlib-0.1.0-py3-none-any.whl",
        "numpy==2.4.6", "jupyterlab==4.6.6",
    ]
