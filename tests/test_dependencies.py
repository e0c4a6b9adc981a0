"""Every runtime dependency pyproject.toml declares is one the tool needs (issue 13: no
declared dependency that nothing uses; ``make demo`` installs only what the tool runs on)."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())

MODULE_OF = {"databricks-sdk": "databricks", "mlflow-skinny": "mlflow", "pyyaml": "yaml"}
"""Distributions whose import name differs from their name."""

FOR_MLFLOW_SQLITE = {"sqlalchemy", "alembic"}
"""Never imported by reconciler: MLflow's sqlite registry (``tracking_uri: sqlite:///...``, the
example's ``oss`` target) needs them, and mlflow-skinny does not install them."""


def distribution(requirement: str) -> str:
    found = re.match(r"[A-Za-z0-9_.-]+", requirement)
    assert found is not None, requirement
    return found.group(0).lower().replace("_", "-")


def imported_modules(root: Path) -> set[str]:
    """Top-level modules imported anywhere under ``root``, inside functions too."""
    found: set[str] = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


RUNTIME = [distribution(r) for r in PYPROJECT["project"]["dependencies"]]
TEST = [distribution(r) for r in PYPROJECT["project"]["optional-dependencies"]["test"]]


def test_every_runtime_dependency_is_imported_by_the_tool() -> None:
    used = imported_modules(REPO / "reconciler")
    unused = [d for d in RUNTIME if d not in FOR_MLFLOW_SQLITE and MODULE_OF.get(d, d) not in used]
    assert not unused, (
        f"declared in [project.dependencies], never imported by reconciler/: {unused}"
    )


def test_the_dependencies_kept_for_mlflows_sqlite_registry_are_not_installed_by_mlflow_skinny() -> (
    None
):
    """If mlflow-skinny ever requires them itself, declaring them here is redundant."""
    assert set(RUNTIME) >= FOR_MLFLOW_SQLITE
    required = {
        distribution(r) for r in metadata.requires("mlflow-skinny") or [] if "extra" not in r
    }
    assert not FOR_MLFLOW_SQLITE & required


def test_libraries_only_the_tests_import_are_test_dependencies() -> None:
    """jsonschema checks the generated schemas in tests; the tool never loads it."""
    assert "jsonschema" in TEST and "jsonschema" not in RUNTIME
    assert "jsonschema" in imported_modules(REPO / "tests")
