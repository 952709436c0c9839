# headwater: two commands on a fresh machine — `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HW_PY ?= $(PY)

.PHONY: demo test test-fast lint format bench bench-quick clean r-deps

# headwater alone (what `make demo` needs), then the test extras on top (`make test`).
$(VENV)/.headwater: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed: $(VENV)/.headwater
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

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

test: $(VENV)/.installed $(CHROMIUM) r-deps
	$(PY) -m pytest tests -q

# The fast tier: everything not marked slow (no browser, no second executor, no waiting).
test-fast: $(VENV)/.installed
	$(PY) -m pytest tests -q -m "not slow"

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples

format: $(VENV)/.installed
	$(VENV)/bin/ruff format src tests benchmarks examples
	$(VENV)/bin/ruff check --fix src tests benchmarks examples

-include benchmarks/bench.mk

clean:
	rm -rf $(VENV) .venv-bench examples/.headwater
