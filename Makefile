# headwater: two commands on a fresh machine — `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HW_PY ?= $(PY)
# Airflow runs in a venv of its own (the tests compile flows into DAGs and run them there).
AIRFLOW_VENV ?= .venv-airflow
AIRFLOW_REQUIREMENTS := tests/plugins/airflow/airflow-requirements.txt

.PHONY: demo test test-fast lint typecheck format bench bench-quick clean r-deps

# headwater alone (what `make demo` needs), then the test extras on top (`make test`).
$(VENV)/.headwater: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed: $(VENV)/.headwater
	$(PY) -m pip install --quiet -e '.[test,all]'
	touch $@

# The marker holds the requirements it was made from (the tests check it is current).
$(AIRFLOW_VENV)/.installed: $(AIRFLOW_REQUIREMENTS)
	$(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet -r $(AIRFLOW_REQUIREMENTS)
	cp $(AIRFLOW_REQUIREMENTS) $@

demo: $(VENV)/.headwater
	cd examples && ../$(PY) demo.py

# The web UI's browser tests drive Debian's Chromium; install it when this machine lets us.
CHROMIUM ?= /usr/bin/chromium

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "note: $(CHROMIUM) is missing and cannot be installed here; browser tests will skip"; \
	fi

# The metadata service's tests start Debian's PostgreSQL (initdb into a temp dir); install it
# when this machine lets us (under CI a missing PostgreSQL fails those tests).
POSTGRES_INITDB := $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb))

.PHONY: postgresql
postgresql:
	@if [ -z "$(POSTGRES_INITDB)" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
		else \
			echo "note: PostgreSQL is missing and cannot be installed here; its tests will skip"; \
		fi; \
	fi

test: $(VENV)/.installed $(CHROMIUM) postgresql r-deps $(AIRFLOW_VENV)/.installed
	HEADWATER_AIRFLOW_VENV=$(abspath $(AIRFLOW_VENV)) $(PY) -m pytest tests -q

# R steps and the R package (r/) need R and the R packages Debian ships (CRAN is not used);
# install what is missing when this machine lets us. The R tests fail without them under CI.
R_DEBS := r-base-core r-cran-jsonlite r-cran-r6 r-cran-processx r-cran-digest r-cran-testthat

r-deps:
	@if dpkg -s $(R_DEBS) >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $(R_DEBS) >/dev/null; \
	else \
		echo "note: R ($(R_DEBS)) is missing and cannot be installed here; R tests will skip"; \
	fi


# The fast tier: everything not marked slow (no browser, no second executor, no waiting).
test-fast: $(VENV)/.installed
	$(PY) -m pytest tests -q -m "not slow"

lint: $(VENV)/.installed typecheck
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples

# mypy over src/headwater, as [tool.mypy] in pyproject.toml sets it up.
typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

format: $(VENV)/.installed
	$(VENV)/bin/ruff format src tests benchmarks examples
	$(VENV)/bin/ruff check --fix src tests benchmarks examples

-include benchmarks/bench.mk

clean:
	rm -rf $(VENV) .venv-bench $(AIRFLOW_VENV) examples/.headwater .mypy_cache
