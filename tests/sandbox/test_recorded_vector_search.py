"""Vector Search behaviour recorded on real workspaces (databricks-api.md, last section),
reproduced by the sandbox and driven through the real databricks-sdk. One test per fact."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, NotFound, ResourceDoesNotExist
from databricks.sdk.service.vectorsearch import (
    CustomTag,
    DeltaSyncVectorIndexSpecRequest,
    DirectAccessVectorIndexSpec,
    EmbeddingVectorColumn,
    EndpointType,
    IndexSubtype,
    PipelineType,
    VectorIndexType,
)

from reconciler.sandbox import SandboxConfig, SandboxServer, workspace_client
from reconciler.sandbox.config import Delays

ENDPOINTS = "/api/2.0/vector-search/endpoints"
INDEXES = "/api/2.0/vector-search/indexes"
INDEX = "main.support.docs_index"
PENDING = (
    f"Index {INDEX} is currently pending deletion. Operations on the index are not permitted"
    " while the index is being deleted."
)


def raw(sdk: WorkspaceClient, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    doc = sdk.api_client.do(method, path, **kwargs)
    assert isinstance(doc, dict)
    return doc


def with_deletion_window(seconds: float) -> SandboxConfig:
    return SandboxConfig(delays=Delays(0.02, 0.01, 0.02, 0.02, seconds))


def create_index(sdk: WorkspaceClient, name: str = INDEX, **extra: Any) -> None:
    sdk.vector_search_indexes.create_index(
        name,
        "vs",
        "id",
        VectorIndexType.DELTA_SYNC,
        delta_sync_index_spec=DeltaSyncVectorIndexSpecRequest(
            source_table="main.support.docs", pipeline_type=PipelineType.TRIGGERED
        ),
        **extra,
    )


def test_vs_endpoint_get_returns_effective_not_requested_budget_policy(
    sdk: WorkspaceClient,
) -> None:
    created = sdk.vector_search_endpoints.create_endpoint(
        "vs", EndpointType.STANDARD, budget_policy_id="bp-1"
    ).response
    assert (created.budget_policy_id, created.effective_budget_policy_id) == (None, "bp-1")
    live = raw(sdk, "GET", f"{ENDPOINTS}/vs")
    assert "budget_policy_id" not in live and live["effective_budget_policy_id"] == "bp-1"
    (listed,) = sdk.vector_search_endpoints.list_endpoints()
    assert (listed.budget_policy_id, listed.effective_budget_policy_id) == (None, "bp-1")


def test_vs_endpoint_effective_budget_policy_is_inherited_from_the_workspace(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    config = SandboxConfig.fast()
    config.workspace_budget_policy_id = "bp-workspace"
    sdk = workspace_client(sandbox_factory(config).url)
    sdk.vector_search_endpoints.create_endpoint("vs", EndpointType.STANDARD)
    assert raw(sdk, "GET", f"{ENDPOINTS}/vs")["effective_budget_policy_id"] == "bp-workspace"
    sdk.vector_search_endpoints.update_endpoint_budget_policy("vs", "bp-own")
    assert raw(sdk, "GET", f"{ENDPOINTS}/vs")["effective_budget_policy_id"] == "bp-own"
    # Clearing the endpoint's own policy falls back to the workspace's.
    cleared = sdk.vector_search_endpoints.update_endpoint_budget_policy("vs", "")
    assert (cleared.budget_policy_id, cleared.effective_budget_policy_id) == (
        None,
        "bp-workspace",
    )


def test_vs_endpoint_budget_policy_and_custom_tags_update_on_their_own_routes(
    sdk: WorkspaceClient,
) -> None:
    sdk.vector_search_endpoints.create_endpoint("vs", EndpointType.STANDARD)
    policy = sdk.vector_search_endpoints.update_endpoint_budget_policy("vs", "bp-2")
    assert (policy.budget_policy_id, policy.effective_budget_policy_id) == ("bp-2", "bp-2")
    tags = sdk.vector_search_endpoints.update_endpoint_custom_tags(
        "vs", [CustomTag(key="team", value="search")]
    )
    assert [(t.key, t.value) for t in tags.custom_tags or []] == [("team", "search")]
    live = raw(sdk, "GET", f"{ENDPOINTS}/vs")
    assert live["effective_budget_policy_id"] == "bp-2" and "budget_policy_id" not in live
    assert live["custom_tags"] == [{"key": "team", "value": "search"}]


def test_vs_endpoint_type_cannot_change(sdk: WorkspaceClient) -> None:
    sdk.vector_search_endpoints.create_endpoint("vs", EndpointType.STANDARD)
    with pytest.raises(InvalidParameterValue, match="endpoint_type cannot be changed"):
        raw(sdk, "PATCH", f"{ENDPOINTS}/vs", body={"endpoint_type": "STORAGE_OPTIMIZED"})
    assert sdk.vector_search_endpoints.get_endpoint("vs").endpoint_type is EndpointType.STANDARD


def test_vs_endpoint_target_qps_is_updatable(sdk: WorkspaceClient) -> None:
    sdk.vector_search_endpoints.create_endpoint("vs", EndpointType.STANDARD, target_qps=5)
    patched = sdk.vector_search_endpoints.patch_endpoint("vs", target_qps=20)
    assert patched.scaling_info is not None and patched.scaling_info.requested_target_qps == 20
    live = sdk.vector_search_endpoints.get_endpoint("vs")
    assert live.scaling_info is not None and live.scaling_info.requested_target_qps == 20


def test_index_has_no_update_path(sdk: WorkspaceClient) -> None:
    sdk.vector_search_endpoints.create_endpoint("vs", EndpointType.STANDARD)
    create_index(sdk)
    for method in ("PATCH", "PUT"):
        with pytest.raises(NotFound, match="No API found"):
            raw(sdk, method, f"{INDEXES}/{INDEX}", body={"primary_key": "other"})
    assert sdk.vector_search_indexes.get_index(INDEX).primary_key == "id"


def test_index_schema_json_is_rewritten_to_spark_types_in_sorted_order(
    sdk: WorkspaceClient,
) -> None:
    sdk.vector_search_endpoints.create_endpoint("vs", EndpointType.STANDARD)
    written = {
        "vec": "array<float>",
        "id": "integer",
        "n": "long",
        "small": "short",
        "tiny": "byte",
        "ids": "array<long>",
        "flags": "array<integer>",
        "text": "string",
    }
    sdk.vector_search_indexes.create_index(
        "main.s.direct",
        "vs",
        "id",
        VectorIndexType.DIRECT_ACCESS,
        direct_access_index_spec=DirectAccessVectorIndexSpec(
            schema_json=json.dumps(written),
            embedding_vector_columns=[EmbeddingVectorColumn(name="vec", embedding_dimension=8)],
        ),
    )
    spec = sdk.vector_search_indexes.get_index("main.s.direct").direct_access_index_spec
    assert spec is not None and spec.schema_json is not None
    stored = json.loads(spec.schema_json)
    assert list(stored) == sorted(written)
    assert stored == {
        "flags": "array<int>",
        "id": "int",
        "ids": "array<bigint>",
        "n": "bigint",
        "small": "smallint",
        "text": "string",
        "tiny": "tinyint",
        "vec": "array<float>",
    }


def test_index_subtype_defaults_to_hybrid(sdk: WorkspaceClient) -> None:
    sdk.vector_search_endpoints.create_endpoint("vs", EndpointType.STANDARD)
    create_index(sdk)
    create_index(sdk, "main.support.text_only", index_subtype=IndexSubtype.FULL_TEXT)
    assert sdk.vector_search_indexes.get_index(INDEX).index_subtype is IndexSubtype.HYBRID
    text_only = sdk.vector_search_indexes.get_index("main.support.text_only")
    assert text_only.index_subtype is IndexSubtype.FULL_TEXT


def test_index_pending_deletion_rejects_recreate(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    sdk = workspace_client(sandbox_factory(with_deletion_window(30)).url)
    sdk.vector_search_endpoints.create_endpoint("vs", EndpointType.STANDARD)
    create_index(sdk)
    sdk.vector_search_indexes.delete_index(INDEX)
    with pytest.raises(ResourceDoesNotExist):
        sdk.vector_search_indexes.get_index(INDEX)  # gone from GET at once
    assert [i.name for i in sdk.vector_search_indexes.list_indexes("vs")] == []
    with pytest.raises(InvalidParameterValue) as info:
        create_index(sdk)
    assert str(info.value) == PENDING
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    create_index(sdk, "main.support.other_index")  # other names are free


def test_index_pending_deletion_ends_after_the_window(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    sdk = workspace_client(sandbox_factory(with_deletion_window(0.3)).url)
    sdk.vector_search_endpoints.create_endpoint("vs", EndpointType.STANDARD)
    create_index(sdk)
    sdk.vector_search_indexes.delete_index(INDEX)
    refused = 0
    deadline = time.monotonic() + 10
    while True:
        try:
            create_index(sdk)
            break
        except InvalidParameterValue as error:
            assert str(error) == PENDING
            refused += 1
            assert time.monotonic() < deadline, "the name never came free"
            time.sleep(0.02)
    assert refused >= 1
    assert sdk.vector_search_indexes.get_index(INDEX).name == INDEX


def test_index_pending_deletion_window_can_be_lengthened(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    server = sandbox_factory(with_deletion_window(0.05))
    sdk = workspace_client(server.url)
    faults = raw(sdk, "POST", "/sandbox/faults", body={"slow_deletion": 30})
    assert faults["slow_deletion"] == 30
    sdk.vector_search_endpoints.create_endpoint("vs", EndpointType.STANDARD)
    create_index(sdk)
    sdk.vector_search_indexes.delete_index(INDEX)
    time.sleep(0.2)  # well past the 0.05 s base window
    with pytest.raises(InvalidParameterValue, match="currently pending deletion"):
        create_index(sdk)
