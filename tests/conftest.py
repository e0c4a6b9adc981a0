"""Shared fixtures live in tests/fixtures/, one module per area.

Tests that run a live system end to end are marked ``e2e`` here, so ``make fast`` (``-m "not
e2e"``) runs the rest: everything under ``tests/e2e/``, and any test that starts the sandbox
server, a real MLflow registry, or a whole project against one (by the fixtures it uses).
"""

import os
from pathlib import Path

import pytest

pytest_plugins = ["fixtures.sandbox", "fixtures.project", "fixtures.mlflow_server"]

# Tests never talk to a real workspace: drop any ambient Databricks configuration (and an
# allowlist of real hosts, which would refuse the loopback targets of the tests).
for _var in [
    v for v in os.environ if v.startswith("DATABRICKS_") or v == "RECONCILER_ALLOWED_HOSTS"
]:
    del os.environ[_var]

LIVE_FIXTURES = frozenset(
    {
        "sandbox",
        "sandbox_factory",
        "sdk",
        "register_ready",
        "live",
        "migrated_db",
        "registry_uri",
        "mlflow_client",
        "mlflow_server",
        "registry",
    }
)
"""Fixtures that start a live system: the sandbox server, a project applied to one, a real
MLflow registry."""
E2E_PATHS = (
    "e2e/",
    "adapters/mlflow/",
    "importer/test_import.py",
    "gitops/test_rollback.py",
    "security/test_no_secret_leaks.py",
    "security/test_allowed_hosts.py",
    "sandbox/test_cli.py",
    "sandbox/test_http.py",
)
"""Directories and modules whose tests start a live system themselves: the CLI against a
sandbox, a real MLflow registry, the sandbox's HTTP server."""
_TESTS = Path(__file__).parent


FAST = "not e2e"
"""The mark expression of ``make fast``."""


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under ``make fast``, the modules of ``E2E_PATHS`` are not even imported: every test in
    them is e2e, and importing them (MLflow with pandas, in every xdist worker) took a third
    of the run."""
    if config.getoption("markexpr", "") != FAST:
        return None
    try:
        relative = collection_path.relative_to(_TESTS).as_posix()
    except ValueError:
        return None
    if collection_path.is_dir():
        relative += "/"
    return True if relative.startswith(E2E_PATHS) else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        relative = item.path.relative_to(_TESTS).as_posix()
        if relative.startswith(E2E_PATHS) or LIVE_FIXTURES.intersection(
            getattr(item, "fixturenames", ())
        ):
            item.add_marker(pytest.mark.e2e)
