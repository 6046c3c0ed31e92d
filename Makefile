# The two commands a reader needs: `make book` and `make test`.
# Every target creates .venv if needed and reinstalls the pinned requirements only
# when requirements.txt or pyproject.toml changed (the stamp .venv/.installed).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NB     ?= $(sort $(wildcard book/*.ipynb))

.PHONY: help venv test book execute lab lint check-site check-download clean

help:
	@echo "make book     build the HTML site into _build/html/index.html (strict)"
	@echo "make test     pytest --nbval: unit tests and every notebook's stored outputs"
	@echo "make execute  re-run every notebook in place (or one: make execute NB=book/x.ipynb)"
	@echo "make lab      open the book in JupyterLab with nnlib importable"
	@echo "make lint     ruff over nnlib/, tests/ and the notebooks"
	@echo "make check-site  open every page of the built site in headless Chromium and check it"
	@echo "make check-download  run downloaded chapters with the site's nnlib wheel, in a fresh venv"
	@echo "make clean    remove _build/ and caches (keeps .venv)"

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# Two pytest workers on two cores: one BLAS thread each, or their threads fight.
test: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/pytest --nbval

book: $(STAMP)
	$(BIN)/jupyter-book build -W -n --keep-going .

execute: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.kernel_name=python3 \
		--ExecutePreprocessor.record_timing=False \
		--ExecutePreprocessor.timeout=300 $(NB)

# As root (a container), Jupyter refuses to start without --allow-root.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(STAMP)
	$(BIN)/jupyter lab $(LAB_ARGS) book/

lint: $(STAMP)
	$(BIN)/ruff check nnlib/ tests/ book/ benchmarks/ tools/

# Needs `make book` first. Installs Debian's chromium if missing (no browser download).
check-site: $(STAMP)
	bash tools/ensure_chromium.sh
	$(BIN)/python tools/check_site.py

# Needs `make book` first. From the built site alone: a fresh venv installs nnlib's wheel
# with the page "Run it yourself"'s pip command and runs downloaded chapters top to bottom.
check-download: $(STAMP)
	$(BIN)/python tools/check_download.py

clean:
	rm -rf _build .pytest_cache .jupyter_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -path ./$(VENV) -prune -o -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +
