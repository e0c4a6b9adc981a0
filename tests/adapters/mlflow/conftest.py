"""MLflow registry fixtures: a real sqlite registry per test, and a real tracking server.

Creating an MLflow sqlite database runs the alembic migrations (seconds). One migrated database
is made per test session (per xdist worker) and copied for each test, which takes milliseconds.

``registry`` runs a test on both backends: the embedded sqlite registry (in process) and the
session's ``mlflow server`` over http (``tests/fixtures/mlflow_server.py``); see
``tests/fixtures/mlflow_registry.py``. The server is
shared, so names made with ``registry.name(...)`` and ``registry.project`` are unique per test.

No ``__init__.py`` in this directory on purpose: a package named ``mlflow`` would shadow MLflow.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from fixtures.mlflow_registry import BACKENDS, Registry
from mlflow import MlflowClient


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    with warnings.catch_warnings():  # MLflow's own SQLAlchemy deprecation, once per process
        warnings.simplefilter("ignore", DeprecationWarning)
        uri = f"sqlite:///{path}"
        MlflowClient(tracking_uri=uri, registry_uri=uri).search_registered_models()
    return path


@pytest.fixture
def registry_uri(tmp_path: Path, migrated_db: Path) -> str:
    """A fresh, empty, migrated sqlite registry of this test's own."""
    path = tmp_path / "registry" / "mlflow.db"
    path.parent.mkdir()
    shutil.copyfile(migrated_db, path)
    return f"sqlite:///{path}"


@pytest.fixture
def mlflow_client(registry_uri: str) -> MlflowClient:
    """MlflowClient on the test registry, playing the training pipeline and the humans."""
    return MlflowClient(tracking_uri=registry_uri, registry_uri=registry_uri)


@pytest.fixture
def register_versions(mlflow_client: MlflowClient) -> Callable[[str, int], list[int]]:
    """Register READY versions of a model (creating it, unowned, if needed), as training does."""

    def register(model: str, count: int = 1) -> list[int]:
        if not mlflow_client.search_registered_models(filter_string=f"name = '{model}'"):
            mlflow_client.create_registered_model(model)
        return [
            int(mlflow_client.create_model_version(model, source=f"file:///m/{model}/{i}").version)
            for i in range(count)
        ]

    return register


@pytest.fixture(params=BACKENDS)
def registry(request: pytest.FixtureRequest, tmp_path: Path, migrated_db: Path) -> Registry:
    """An empty registry of this test's own, or this test's corner of the shared server."""
    if request.param == "server":
        url = request.getfixturevalue("mlflow_server").url
        return Registry("server", url, url, MlflowClient(tracking_uri=url, registry_uri=url))
    path = tmp_path / "registry" / "mlflow.db"
    path.parent.mkdir()
    shutil.copyfile(migrated_db, path)
    uri = f"sqlite:///{path}"
    # Projects live in tmp_path/<name>: the relative form checks resolution from the root.
    return Registry(
        "sqlite", uri, "sqlite:///../registry/mlflow.db", MlflowClient(uri, registry_uri=uri)
    )
