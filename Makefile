# headwater: two commands on a fresh machine — `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HW_PY ?= $(PY)

.PHONY: demo test lint format bench bench-quick clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,all]'
	touch $@

demo: $(VENV)/.installed
	cd examples && ../$(PY) demo.py

# The web UI's browser tests drive Debian's Chromium; install it when this machine lets us.
CHROMIUM ?= /usr/bin/chromium

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "note: $(CHROMIUM) is missing and cannot be installed here; browser tests will skip"; \
	fi

test: $(VENV)/.installed $(CHROMIUM)
	$(PY) -m pytest tests -q

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples

format: $(VENV)/.installed
	$(VENV)/bin/ruff format src tests benchmarks examples
	$(VENV)/bin/ruff check --fix src tests benchmarks examples

-include benchmarks/bench.mk

clean:
	rm -rf $(VENV) .venv-bench examples/.headwater
