# Benchmarks: the same flows under headwater and under Metaflow, alternating run by run.
# Included from the top-level Makefile; see benchmarks/README.md.
#   make bench         every scenario (10-20 minutes; Metaflow's 1000-way foreach alone is 5-13)
#   make bench-quick   linear3, foreach100, numpy256, import, client scenarios at 100, r_linear3
#                      (about 3 minutes)
# Repetitions: BENCH_REPEAT, BENCH_REPEAT_SLOW, BENCH_IMPORT_REPEAT; extra harness options:
# BENCH_ARGS (e.g. BENCH_ARGS="--only linear3,import").

VENV ?= .venv
PYTHON ?= python3
HW_PY ?= .venv/bin/python
BENCH_VENV ?= .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python
BENCH_PACKAGES := metaflow==2.19.7 numpy boto3
BENCH_ARGS ?=

# Metaflow lives in its own venv so it never shares site-packages with headwater.
$(BENCH_VENV)/.installed: benchmarks/bench.mk
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install --quiet $(BENCH_PACKAGES)
	touch $@

# pip byte-compiles Metaflow when it installs it; headwater is installed editable, so compile
# it here too (this environment may set PYTHONDONTWRITEBYTECODE, which would otherwise make
# every headwater command recompile its modules from source).
.PHONY: bench bench-quick bench-compile
bench-compile: $(VENV)/.installed
	$(HW_PY) -m compileall -q src/headwater

bench: $(VENV)/.installed $(BENCH_VENV)/.installed bench-compile r-deps
	$(HW_PY) benchmarks/harness.py --metaflow-python $(BENCH_PY) $(BENCH_ARGS)

bench-quick: $(VENV)/.installed $(BENCH_VENV)/.installed bench-compile r-deps
	$(HW_PY) benchmarks/harness.py --quick --metaflow-python $(BENCH_PY) $(BENCH_ARGS)
