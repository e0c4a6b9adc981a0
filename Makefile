# The two commands a newcomer runs: `make demo` and `make test`.
# Both install from the committed uv.lock, so every machine gets exactly the tested versions.
# uv itself is bootstrapped from the package registry into .tools/ when it is not on PATH.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
PYTEST_ARGS ?= -n 4
FAST_ARGS ?= -n auto
ifeq ($(origin UV),undefined)
  ifeq ($(shell command -v uv 2>/dev/null),)
    UV := .tools/uv/bin/uv
    UV_DEP := $(UV)
  else
    UV := uv
  endif
endif
# uv uses the Python it is given, never a downloaded one; the project's venv lives in $(VENV).
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo test fast check lint typecheck imports schema install install-runtime lock upgrade-check clean

.tools/uv/bin/uv:
	$(PYTHON) -m venv .tools/uv
	.tools/uv/bin/python -m pip install -q --disable-pip-version-check 'uv==$(UV_VERSION)'

# Runtime only (what `make demo` needs); --inexact keeps test tools a previous `make test` added.
install-runtime: $(UV_DEP)
	$(UV) sync --locked --inexact --no-default-groups

install: $(UV_DEP)
	$(UV) sync --locked --extra test

demo: install-runtime
	bash scripts/demo.sh

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

# Unit tests only (one worker per core): no sandbox server, no real MLflow registry, no CLI run
# against a project; tests/fixtures/suite.py marks those e2e.
fast: install
	$(BIN)/pytest $(FAST_ARGS) -m "not e2e"

lint: install imports
	$(BIN)/ruff check reconciler tests benchmarks scripts
	$(BIN)/ruff format --check reconciler tests benchmarks scripts

# The layer contracts (pyproject.toml [tool.importlinter]) and no import cycle, counting
# imports inside functions (the script lists those, each with its reason).
imports: install
	$(BIN)/lint-imports
	$(BIN)/python scripts/import_graph.py

typecheck: install
	$(BIN)/mypy reconciler

check: lint typecheck test

schema: install
	$(BIN)/reconciler schema --out schemas

# Refresh the lock to the newest releases the constraints in pyproject.toml allow.
lock: $(UV_DEP)
	$(UV) lock --upgrade

# What the scheduled CI job runs: the newest releases, ignoring the lock.
upgrade-check: $(UV_DEP)
	$(UV) venv --allow-existing $(VENV)-latest
	VIRTUAL_ENV=$(VENV)-latest $(UV) pip install --upgrade -e '.[test]'
	$(VENV)-latest/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(VENV)-latest .tools .reconciler .pytest_cache .mypy_cache .ruff_cache
