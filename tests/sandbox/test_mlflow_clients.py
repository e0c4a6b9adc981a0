"""MLflow's two Databricks UC registry clients (legacy and native) against the sandbox."""

from __future__ import annotations

import pytest
from databricks.sdk import WorkspaceClient

from reconciler.sandbox import SandboxServer, register_version


@pytest.fixture(autouse=True)
def fresh_registry_store() -> None:
    """MLflow caches a registry store per URI, whatever MLFLOW_ENABLE_UC_NATIVE_MODEL_REGISTRY
    says: a worker that ran the native client first handed the next test its native store."""
    from mlflow.tracking._model_registry.registry import ModelRegistryStoreRegistry

    ModelRegistryStoreRegistry._get_store_with_resolved_uri.cache_clear()


@pytest.mark.parametrize("native", ["false", "true"])
def test_mlflow_uc_client_aliases_and_tags(
    sandbox: SandboxServer, sdk: WorkspaceClient, native: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient

    monkeypatch.setenv("DATABRICKS_HOST", sandbox.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", "sandbox")
    monkeypatch.setenv("MLFLOW_ENABLE_UC_NATIVE_MODEL_REGISTRY", native)
    register_version(sdk, "main.s.m")
    register_version(sdk, "main.s.m")
    client = MlflowClient(tracking_uri="databricks", registry_uri="databricks-uc")
    client.set_registered_model_alias("main.s.m", "champion", "2")
    version = client.get_model_version_by_alias("main.s.m", "champion")
    assert (version.version, version.status, version.aliases) == ("2", "READY", ["champion"])
    client.set_registered_model_tag("main.s.m", "team", "a")
    model = client.get_registered_model("main.s.m")
    assert (model.tags, model.aliases) == ({"team": "a"}, {"champion": "2"})
    client.set_model_version_tag("main.s.m", "2", "approval", "CHG-1")
    assert client.get_model_version("main.s.m", "2").tags == {"approval": "CHG-1"}
    # what MLflow wrote is what the 2.1 API shows
    raw = sdk.api_client.do("GET", "/api/2.1/unity-catalog/models/main.s.m/versions/2")
    assert isinstance(raw, dict) and raw["tags"] == [{"key": "approval", "value": "CHG-1"}]
    assert sdk.registered_models.get("main.s.m", include_aliases=True).aliases[0].version_num == 2
    client.delete_model_version_tag("main.s.m", "2", "approval")
    client.delete_registered_model_alias("main.s.m", "champion")
    assert client.get_model_version("main.s.m", "2").tags == {}
    assert client.get_registered_model("main.s.m").aliases == {}


def test_mlflow_uc_client_creates_a_model_with_its_tags(
    sandbox: SandboxServer, sdk: WorkspaceClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow's legacy UC store creates through ``registered-models/create``, tags included:
    the route apply uses so that a model never exists without its ownership marker."""
    from mlflow import MlflowClient

    monkeypatch.setenv("DATABRICKS_HOST", sandbox.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", "sandbox")
    monkeypatch.setenv("MLFLOW_ENABLE_UC_NATIVE_MODEL_REGISTRY", "false")
    client = MlflowClient(tracking_uri="databricks", registry_uri="databricks-uc")
    created = client.create_registered_model(
        "main.s.fresh", tags={"reconciler.project": "p", "team": "a"}, description="d"
    )
    assert created.name == "main.s.fresh"
    assert client.get_registered_model("main.s.fresh").tags == {
        "reconciler.project": "p",
        "team": "a",
    }
    assert sdk.registered_models.get("main.s.fresh").comment == "d"
    with pytest.raises(Exception, match="RESOURCE_ALREADY_EXISTS"):
        client.create_registered_model("main.s.fresh")
