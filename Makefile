# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PYTEST_ARGS ?= -n 4

.PHONY: demo test check lint typecheck schema install clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install
	bash scripts/demo.sh

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check reconciler tests benchmarks scripts
	$(BIN)/ruff format --check reconciler tests benchmarks scripts

typecheck: install
	$(BIN)/mypy reconciler

check: lint typecheck test

schema: install
	$(BIN)/reconciler schema --out schemas

clean:
	rm -rf $(VENV) .reconciler .pytest_cache .mypy_cache .ruff_cache
