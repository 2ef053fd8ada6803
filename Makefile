# The two set-up commands of the README:
#   make demo   builds the demo twin from real data (offline) and serves it
#   make test   runs the whole test suite
# Each creates its own virtual environment in .venv on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/twin demo --out data/demo

test: $(STAMP)
	$(BIN)/ruff check twin tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy twin
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_build.py

clean:
	rm -rf $(VENV) data/demo
