# Front door. `make report` and `make test` are the two commands of the README;
# both set up the virtual environment from pyproject.toml first.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
MONTH  ?=

.PHONY: setup data report test test-fast coverage mutation lab browser bench clean help

help:
	@echo "make report   set up, write synthetic extracts if data/raw is empty, run the monthly job"
	@echo "make test     set up and run the test suite"
	@echo "make coverage the test suite under coverage, notebook kernels included; report per file"
	@echo "make mutation mutmut over the core modules (about 25–35 min on 2 cores); scores to tests/MUTATION.md"
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

# Coverage of the whole suite, including the code the report notebooks run inside Jupyter kernels:
# coverage starts in every subprocess (pyproject: [tool.coverage.run] patch = subprocess), each writes to
# COVERAGE_FILE wherever its cwd is, and the kernels save after every cell (tests/kernel_coverage.py, an
# IPython startup file), since the run kills a kernel when its last cell is done. Browser tests measure no
# package code and are left out.
coverage: setup
	rm -rf .coverage .coverage.* build/ipython
	mkdir -p build/ipython/profile_default/startup
	cp tests/kernel_coverage.py build/ipython/profile_default/startup/
	COVERAGE_FILE=$(CURDIR)/.coverage IPYTHONDIR=$(CURDIR)/build/ipython \
	  $(PY) -m coverage run -m pytest -n 2 --dist loadgroup -m "not browser" -q
	$(PY) -m coverage combine -q
	$(PY) -m coverage report --sort=cover

# Mutation testing of the core modules, one module at a time with its own fast tests (tests/mutation.py).
# Not part of `make test`: it runs each module's tests once per mutant. MODULES="suppression payment" for a few.
mutation: setup
	$(PY) -m tests.mutation $(MODULES)

lab: setup
	$(VENV)/bin/jupyter lab notebooks/

bench: setup
	$(PY) benchmarks/bench_cleaning.py
	$(PY) benchmarks/bench_forecast.py
	$(PY) benchmarks/bench_pipeline.py

clean:
	rm -rf build data/processed/* logs .coverage .coverage.*
