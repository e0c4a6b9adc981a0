"""Shared fixtures live in tests/fixtures/, one module per area.

Tests that run a live system end to end are marked ``e2e`` (fixtures/suite.py), so ``make
fast`` (``-m "not e2e"``) runs the rest: everything under ``tests/e2e/``, and any test that
starts the sandbox server, a real MLflow registry, or a whole project against one (by the
fixtures it uses).
"""

import os

pytest_plugins = [
    "fixtures.suite",
    "fixtures.sandbox",
    "fixtures.project",
    "fixtures.mlflow_server",
]

# Tests never talk to a real workspace: drop any ambient Databricks configuration (and an
# allowlist of real hosts, which would refuse the loopback targets of the tests).
for _var in [
    v for v in os.environ if v.startswith("DATABRICKS_") or v == "RECONCILER_ALLOWED_HOSTS"
]:
    del os.environ[_var]
