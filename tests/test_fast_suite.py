"""``make fast`` stays fast: the modules that hold only e2e tests are not collected (issue 13:
unit tests under 30 s). Importing them pulled in MLflow and pandas in every xdist worker."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fixtures import suite

TESTS = Path(__file__).parent


def config(markexpr: str) -> Any:
    return SimpleNamespace(getoption=lambda name, default=None: markexpr)


@pytest.mark.parametrize(
    "path",
    ["e2e", "e2e/test_apply.py", "adapters/mlflow", "adapters/mlflow/test_mlflow_reach.py",
     "importer/test_import.py", "sandbox/test_cli.py"],
)  # fmt: skip
def test_make_fast_does_not_collect_the_modules_holding_only_e2e_tests(path: str) -> None:
    assert suite.pytest_ignore_collect(TESTS / path, config(suite.FAST)) is True


@pytest.mark.parametrize(
    "path", ["adapters/databricks", "sandbox", "sandbox/test_store.py", "kinds/test_coverage.py"]
)
def test_make_fast_collects_the_unit_tests(path: str) -> None:
    assert suite.pytest_ignore_collect(TESTS / path, config(suite.FAST)) is None


@pytest.mark.parametrize("markexpr", ["", "e2e", "not e2e and not slow"])
def test_other_runs_collect_everything(markexpr: str) -> None:
    assert suite.pytest_ignore_collect(TESTS / "e2e", config(markexpr)) is None


def test_the_makefile_runs_the_expression_the_hook_knows() -> None:
    makefile = (TESTS.parent / "Makefile").read_text()
    assert f'-m "{suite.FAST}"' in makefile
