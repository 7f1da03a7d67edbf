# Front door. `make report` and `make test` are the two commands of the README;
# both set up the virtual environment from pyproject.toml first.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
MONTH  ?=

.PHONY: setup data report test test-fast lab browser bench clean help

help:
	@echo "make report   set up, write synthetic extracts if data/raw is empty, run the monthly job"
	@echo "make test     set up and run the test suite"
	@echo "make lab      open JupyterLab on the notebooks"
	@echo "make bench    run the benchmarks (writes benchmarks/RESULTS.md figures to stdout)"

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (analysis)" >/dev/null
	touch $@

setup: $(VENV)/.installed

data: setup
	$(PY) -m analysis synth --if-missing

report: data
	$(PY) -m analysis run $(if $(MONTH),--month $(MONTH),)

# Headless Chromium is needed by the browser tests; install it on Debian when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && apt-get install -y -qq chromium >/dev/null); \
	  else echo "Chromium not found: install it (Debian: apt-get install chromium) for the browser tests"; fi; }

test: setup browser
	$(PY) -m pytest -n 2 --dist loadgroup

test-fast: setup
	$(PY) -m pytest -n 2 -m "not slow and not browser"

lab: setup
	$(VENV)/bin/jupyter lab notebooks/

bench: setup
	$(PY) benchmarks/bench_cleaning.py
	$(PY) benchmarks/bench_forecast.py
	$(PY) benchmarks/bench_pipeline.py

clean:
	rm -rf build data/processed/* logs
