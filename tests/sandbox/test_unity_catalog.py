"""Unity Catalog models, versions, aliases and tags through the real databricks-sdk."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import (
    BadRequest,
    InvalidParameterValue,
    NotFound,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from databricks.sdk.service.catalog import ModelVersionInfoStatus

from reconciler.sandbox import (
    SandboxConfig,
    SandboxServer,
    register_version,
    register_versions_up_to,
    set_version_status,
    workspace_client,
)

MODEL = "main.support.intent"


def test_model_crud_and_aliases_only_on_request(
    sdk: WorkspaceClient, register_ready: Callable[[str], int]
) -> None:
    created = sdk.registered_models.create(
        catalog_name="main", schema_name="support", name="intent", comment="c1"
    )
    assert created.full_name == MODEL and created.comment == "c1"
    assert created.owner and created.created_at and created.metastore_id
    assert created.storage_location and created.updated_by
    with pytest.raises(ResourceAlreadyExists):
        sdk.registered_models.create(catalog_name="main", schema_name="support", name="intent")
    with pytest.raises(InvalidParameterValue):
        sdk.registered_models.create(catalog_name="main", schema_name="support", name="a b")
    register_ready(MODEL)
    register_ready(MODEL)
    alias = sdk.registered_models.set_alias(MODEL, "champion", 2)
    assert (alias.alias_name, alias.version_num, alias.model_name) == ("champion", 2, "intent")
    assert alias.catalog_name == "main" and alias.schema_name == "support"
    assert sdk.registered_models.get(MODEL).aliases == []
    got = sdk.registered_models.get(MODEL, include_aliases=True)
    assert [(a.alias_name, a.version_num) for a in got.aliases] == [("champion", 2)]
    by_alias = sdk.model_versions.get_by_alias(MODEL, "champion")
    assert isinstance(by_alias.version, int) and by_alias.version == 2
    assert by_alias.status is ModelVersionInfoStatus.READY
    sdk.registered_models.set_alias(MODEL, "champion", 1)  # moving an alias
    assert sdk.model_versions.get_by_alias(MODEL, "champion").version == 1
    with pytest.raises(ResourceDoesNotExist):
        sdk.registered_models.set_alias(MODEL, "champion", 9)
    with pytest.raises(InvalidParameterValue):
        sdk.registered_models.set_alias(MODEL, "latest", 1)
    sdk.registered_models.delete_alias(MODEL, "champion")
    with pytest.raises(NotFound):
        sdk.model_versions.get_by_alias(MODEL, "champion")

    updated = sdk.registered_models.update(MODEL, comment="c2", owner="team@example.com")
    assert (updated.comment, updated.owner) == ("c2", "team@example.com")
    assert sdk.registered_models.get(MODEL).comment == "c2"
    sdk.registered_models.delete(MODEL)
    with pytest.raises(ResourceDoesNotExist):
        sdk.registered_models.get(MODEL)
    with pytest.raises(NotFound):
        sdk.model_versions.get(MODEL, 1)


def test_names_are_case_insensitive_like_unity_catalog(sdk: WorkspaceClient) -> None:
    sdk.registered_models.create(catalog_name="Main", schema_name="Support", name="Intent")
    assert sdk.registered_models.get("MAIN.support.INTENT").full_name == MODEL


def test_versions_register_pending_then_ready_or_failed(sdk: WorkspaceClient) -> None:
    pending = register_version(sdk, MODEL, status="PENDING_REGISTRATION", run_id="run-1")
    assert pending.status is ModelVersionInfoStatus.PENDING_REGISTRATION
    assert pending.run_id == "run-1" and pending.source
    finalized = sdk.api_client.do(
        "PATCH", f"/api/2.1/unity-catalog/models/{MODEL}/versions/{pending.version}/finalize"
    )
    assert isinstance(finalized, dict) and finalized["status"] == "READY"
    failed = register_version(sdk, MODEL, status="FAILED_REGISTRATION")
    assert failed.status is ModelVersionInfoStatus.FAILED_REGISTRATION
    assert sdk.model_versions.get(MODEL, 2).status is ModelVersionInfoStatus.FAILED_REGISTRATION
    set_version_status(sdk, MODEL, 2, "READY")
    assert sdk.model_versions.get(MODEL, 2).status is ModelVersionInfoStatus.READY
    with pytest.raises(NotFound):
        sdk.api_client.do(
            "POST",
            "/api/2.1/unity-catalog/models/versions",
            body={"catalog_name": "main", "schema_name": "x", "model_name": "y", "source": "s"},
        )
    assert register_versions_up_to(sdk, MODEL, 4) == [3, 4]
    assert register_versions_up_to(sdk, MODEL, 4) == []
    updated = sdk.model_versions.update(MODEL, 3, comment="good")
    assert updated.comment == "good"
    sdk.registered_models.set_alias(MODEL, "champion", 3)
    got = sdk.model_versions.get(MODEL, 3, include_aliases=True)
    assert [a.alias_name for a in got.aliases] == ["champion"]
    sdk.model_versions.delete(MODEL, 3)
    assert sdk.registered_models.get(MODEL, include_aliases=True).aliases == []


def test_pagination_across_pages_including_empty_pages(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    config = SandboxConfig.fast()
    config.empty_pages = True
    sdk = workspace_client(sandbox_factory(config).url)
    for i in range(7):
        sdk.registered_models.create(catalog_name="main", schema_name="s", name=f"m{i}")
    sdk.registered_models.create(catalog_name="other", schema_name="s", name="x")
    first = sdk.api_client.do("GET", "/api/2.1/unity-catalog/models", query={"max_results": 3})
    assert first == {"registered_models": [], "next_page_token": "e0"}
    listed = sdk.registered_models.list(max_results=3)
    names = [m.name for m in listed if m.catalog_name != "system"]  # system.ai: every workspace
    assert names == [f"m{i}" for i in range(7)] + ["x"]
    scoped = sdk.registered_models.list(catalog_name="main", schema_name="s", max_results=2)
    assert len(list(scoped)) == 7
    with pytest.raises(BadRequest):
        list(sdk.registered_models.list(catalog_name="main"))
    with pytest.raises(InvalidParameterValue):
        list(sdk.registered_models.list(max_results=-1))
    for _ in range(5):
        register_version(sdk, "main.s.m0")
    versions = [v.version for v in sdk.model_versions.list("main.s.m0", max_results=2)]
    assert versions == [1, 2, 3, 4, 5]
    assert all(v.aliases == [] for v in sdk.model_versions.list("main.s.m0"))


def test_model_tags_through_securable_tags(sdk: WorkspaceClient) -> None:
    sdk.registered_models.create(catalog_name="main", schema_name="support", name="intent")
    path = f"/api/2.1/unity-catalog/securable-tags/FUNCTION/{MODEL}"
    added = sdk.api_client.do(
        "PATCH",
        path,
        body={"changes": {"add_tags": [{"key": "team", "value": "a"}, {"key": "b", "value": "x"}]}},
    )
    assert added == {"tags": [{"key": "b", "value": "x"}, {"key": "team", "value": "a"}]}
    removed = sdk.api_client.do("PATCH", path, body={"changes": {"remove": ["b"]}})
    assert removed == {"tags": [{"key": "team", "value": "a"}]}
    assert sdk.api_client.do("GET", path) == {"tags": [{"key": "team", "value": "a"}]}
    with pytest.raises(NotFound):
        sdk.api_client.do("GET", "/api/2.1/unity-catalog/securable-tags/FUNCTION/main.x.y")
    model = sdk.api_client.do("GET", f"/api/2.1/unity-catalog/models/{MODEL}")
    assert isinstance(model, dict) and model["tags"] == [{"key": "team", "value": "a"}]


def test_version_tags_through_subentity_tags(sdk: WorkspaceClient) -> None:
    register_version(sdk, MODEL)
    path = f"/api/2.1/unity-catalog/subentity-tags/FUNCTION/{MODEL}/1"
    changes = {"add_tags": [{"key": "approval", "value": "CHG-2187"}]}
    assert sdk.api_client.do("PATCH", path, body={"changes": changes}) == {
        "tags": [{"key": "approval", "value": "CHG-2187"}]
    }
    version = sdk.api_client.do("GET", f"/api/2.1/unity-catalog/models/{MODEL}/versions/1")
    assert isinstance(version, dict)
    assert version["tags"] == [{"key": "approval", "value": "CHG-2187"}]
    listed = sdk.api_client.do("GET", f"/api/2.1/unity-catalog/models/{MODEL}/versions")
    assert isinstance(listed, dict) and "tags" not in listed["model_versions"][0]
    sdk.api_client.do("PATCH", path, body={"changes": {"remove": ["approval"]}})
    assert sdk.api_client.do("GET", path) == {"tags": []}
    with pytest.raises(NotFound):
        sdk.api_client.do("GET", f"/api/2.1/unity-catalog/subentity-tags/FUNCTION/{MODEL}/9")


def test_version_tags_and_aliases_on_mlflow_legacy_routes(sdk: WorkspaceClient) -> None:
    register_version(sdk, MODEL)
    base = "/api/2.0/mlflow/unity-catalog"
    sdk.api_client.do(
        "POST",
        base + "/model-versions/set-tag",
        body={"name": MODEL, "version": "1", "key": "approval", "value": "CHG-1"},
    )
    sdk.api_client.do(
        "POST",
        base + "/registered-models/alias",
        body={"name": MODEL, "alias": "a", "version": "1"},
    )
    got = sdk.api_client.do(
        "GET", base + "/model-versions/get", query={"name": MODEL, "version": 1}
    )
    assert isinstance(got, dict)
    mv = got["model_version"]
    assert mv["tags"] == [{"key": "approval", "value": "CHG-1"}]
    assert mv["aliases"] == [{"alias": "a", "version": "1"}]
    assert mv["version"] == "1" and mv["status"] == "READY"
    assert sdk.model_versions.get_by_alias(MODEL, "a").version == 1
    sdk.api_client.do(
        "DELETE",
        base + "/model-versions/delete-tag",
        body={"name": MODEL, "version": "1", "key": "approval"},
    )
    got = sdk.api_client.do(
        "GET", base + "/model-versions/get", query={"name": MODEL, "version": 1}
    )
    assert isinstance(got, dict) and got["model_version"]["tags"] == []
