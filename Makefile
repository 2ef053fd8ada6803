# The two set-up commands of the README:
#   make demo   builds the demo twin from real data (offline) and serves it
#   make test   runs the whole test suite
# Each creates its own virtual environment in .venv on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/twin demo --out data/demo

chromium:
	@command -v chromium >/dev/null 2>&1 && command -v tesseract >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium tesseract-ocr >/dev/null; \
	  else echo "make test needs Debian's chromium (viewer tests) and tesseract-ocr (reads the PNG export): apt-get install chromium tesseract-ocr"; exit 1; fi; }

test: $(STAMP) chromium
	$(BIN)/ruff check twin tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy twin
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_build.py
	$(BIN)/python benchmarks/bench_lighting.py
	$(BIN)/python benchmarks/bench_batch.py
	$(BIN)/python benchmarks/bench_viewer.py
	$(BIN)/python benchmarks/bench_traffic.py --montpellier ../shared/data --aeq-max-iter 1000
	$(BIN)/python benchmarks/bench_heat.py
	$(BIN)/python benchmarks/bench_huff.py
	$(BIN)/python benchmarks/bench_utci.py

clean:
	rm -rf $(VENV) data/demo data/runs
	find twin tests -name '*.nb[ic]' -delete  # numba's caches (see twin/kernels/heap.py)
