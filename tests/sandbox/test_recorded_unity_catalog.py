"""Unity Catalog registered model behaviour recorded on real workspaces (databricks-api.md,
last section), reproduced by the sandbox and driven through the real databricks-sdk."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue

MODEL = "main.support.intent"


def test_registered_model_get_returns_aliases_only_with_include_aliases(
    sdk: WorkspaceClient, register_ready: Callable[[str], int]
) -> None:
    version = register_ready(MODEL)
    sdk.registered_models.set_alias(MODEL, "champion", version)
    assert not sdk.registered_models.get(MODEL).aliases
    raw = sdk.api_client.do("GET", f"/api/2.1/unity-catalog/models/{MODEL}")
    assert isinstance(raw, dict) and "aliases" not in raw
    with_aliases = sdk.registered_models.get(MODEL, include_aliases=True)
    assert [(a.alias_name, a.version_num) for a in with_aliases.aliases or []] == [
        ("champion", version)
    ]


def test_registered_model_backend_fills_owner_storage_location_and_audit_fields(
    sdk: WorkspaceClient,
) -> None:
    created = sdk.registered_models.create(catalog_name="main", schema_name="support", name="m")
    got = sdk.registered_models.get("main.support.m")
    for info in (created, got):
        assert info.full_name == "main.support.m"
        assert info.owner and info.metastore_id and info.storage_location
        assert info.created_at and info.created_by and info.updated_at and info.updated_by
    assert got.storage_location == created.storage_location


def test_registered_model_storage_location_cannot_change(sdk: WorkspaceClient) -> None:
    created = sdk.registered_models.create(catalog_name="main", schema_name="support", name="m")
    path = "/api/2.1/unity-catalog/models/main.support.m"
    with pytest.raises(InvalidParameterValue, match=r"storage location .* cannot be changed"):
        sdk.api_client.do("PATCH", path, body={"storage_location": "s3://elsewhere/m"})
    # Sending the location it already has is not a change.
    sdk.api_client.do(
        "PATCH", path, body={"storage_location": created.storage_location, "comment": "c"}
    )
    got = sdk.registered_models.get("main.support.m")
    assert (got.storage_location, got.comment) == (created.storage_location, "c")
