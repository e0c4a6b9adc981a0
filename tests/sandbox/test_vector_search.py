"""Vector Search endpoints and indexes through the real databricks-sdk."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import (
    BadRequest,
    InvalidParameterValue,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from databricks.sdk.service.vectorsearch import (
    CustomTag,
    DeltaSyncVectorIndexSpecRequest,
    DirectAccessVectorIndexSpec,
    EmbeddingSourceColumn,
    EmbeddingVectorColumn,
    EndpointStatusState,
    EndpointType,
    IndexSubtype,
    PipelineType,
    VectorIndexType,
)

from reconciler.sandbox import SandboxConfig, SandboxServer, workspace_client
from reconciler.sandbox.config import Delays

INDEX = "main.support.docs_index"


def delta_spec(model: str = "databricks-bge-large-en") -> DeltaSyncVectorIndexSpecRequest:
    return DeltaSyncVectorIndexSpecRequest(
        source_table="main.support.docs",
        pipeline_type=PipelineType.TRIGGERED,
        embedding_source_columns=[
            EmbeddingSourceColumn(name="content", embedding_model_endpoint_name=model)
        ],
    )


def create_index(sdk: WorkspaceClient, name: str = INDEX, endpoint: str = "vs") -> None:
    sdk.vector_search_indexes.create_index(
        name, endpoint, "doc_id", VectorIndexType.DELTA_SYNC, delta_sync_index_spec=delta_spec()
    )


def wait_ready(sdk: WorkspaceClient, name: str) -> None:
    deadline = time.time() + 5
    while not (sdk.vector_search_indexes.get_index(name).status or None).ready:  # type: ignore[union-attr]
        assert time.time() < deadline, "index never became ready"
        time.sleep(0.01)


def test_endpoint_provisions_then_online_with_waiter(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    sdk = workspace_client(
        sandbox_factory(SandboxConfig(delays=Delays(0.02, 0.01, 0.3, 0.02, 0.05))).url
    )
    waiter = sdk.vector_search_endpoints.create_endpoint(
        "vs", EndpointType.STANDARD, budget_policy_id="bp-1"
    )
    assert waiter.response.endpoint_status is not None
    assert waiter.response.endpoint_status.state is EndpointStatusState.PROVISIONING
    ep = waiter.result(timeout=timedelta(seconds=30))
    assert ep.endpoint_status is not None
    assert ep.endpoint_status.state is EndpointStatusState.ONLINE
    assert ep.endpoint_type is EndpointType.STANDARD
    assert ep.id and ep.creator and ep.creation_timestamp and ep.last_updated_timestamp
    assert ep.num_indexes == 0
    assert (ep.budget_policy_id, ep.effective_budget_policy_id) == (None, "bp-1")
    again = sdk.vector_search_endpoints.create_endpoint_and_wait("vs2", EndpointType.STANDARD)
    assert again.endpoint_status is not None


def test_endpoint_errors_tags_budget_and_delete(sdk: WorkspaceClient) -> None:
    sdk.vector_search_endpoints.create_endpoint("vs", EndpointType.STORAGE_OPTIMIZED)
    with pytest.raises(ResourceAlreadyExists):
        sdk.vector_search_endpoints.create_endpoint("vs", EndpointType.STANDARD)
    with pytest.raises(InvalidParameterValue):
        sdk.vector_search_endpoints.create_endpoint("bad name", EndpointType.STANDARD)
    with pytest.raises(ResourceDoesNotExist):
        sdk.vector_search_endpoints.get_endpoint("nope")
    tags = sdk.vector_search_endpoints.update_endpoint_custom_tags(
        "vs", [CustomTag(key="team", value="a"), CustomTag(key="b", value="c")]
    )
    assert tags.name == "vs"
    assert [(t.key, t.value) for t in tags.custom_tags or []] == [("b", "c"), ("team", "a")]
    tags = sdk.vector_search_endpoints.update_endpoint_custom_tags(
        "vs", [CustomTag(key="team", value="z")]
    )
    got = sdk.vector_search_endpoints.get_endpoint("vs")
    assert [(t.key, t.value) for t in got.custom_tags or []] == [("team", "z")]
    policy = sdk.vector_search_endpoints.update_endpoint_budget_policy("vs", "bp-2")
    assert policy.effective_budget_policy_id == "bp-2"
    patched = sdk.vector_search_endpoints.patch_endpoint("vs", target_qps=5)
    assert patched.scaling_info is not None and patched.scaling_info.requested_target_qps == 5
    sdk.vector_search_endpoints.delete_endpoint("vs")
    with pytest.raises(ResourceDoesNotExist):
        sdk.vector_search_endpoints.delete_endpoint("vs")


def test_list_endpoints_pages_with_empty_pages(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    config = SandboxConfig.fast()
    config.vs_page_size = 2
    config.empty_pages = True
    sdk = workspace_client(sandbox_factory(config).url)
    for i in range(5):
        sdk.vector_search_endpoints.create_endpoint(f"vs{i}", EndpointType.STANDARD)
    first = sdk.api_client.do("GET", "/api/2.0/vector-search/endpoints")
    assert first == {"endpoints": [], "next_page_token": "e0"}
    names = [e.name for e in sdk.vector_search_endpoints.list_endpoints()]
    assert names == [f"vs{i}" for i in range(5)]
    for i in range(3):
        create_index(sdk, f"main.s.idx{i}", "vs0")
    create_index(sdk, "main.s.other", "vs1")
    listed = list(sdk.vector_search_indexes.list_indexes("vs0"))
    assert [ix.name for ix in listed] == [f"main.s.idx{i}" for i in range(3)]
    assert listed[0].index_type is VectorIndexType.DELTA_SYNC and listed[0].primary_key == "doc_id"
    body = sdk.api_client.do(
        "GET", "/api/2.0/vector-search/indexes", query={"endpoint_name": "vs0", "page_token": "e0"}
    )
    assert isinstance(body, dict)
    assert all(
        "status" not in ix and "delta_sync_index_spec" not in ix for ix in body["vector_indexes"]
    )
    with pytest.raises(BadRequest):
        sdk.api_client.do("GET", "/api/2.0/vector-search/indexes")


def test_index_lifecycle(sandbox_factory: Callable[..., SandboxServer]) -> None:
    # Delays long enough that a loaded test machine still sees the transient states.
    sdk = workspace_client(
        sandbox_factory(SandboxConfig(delays=Delays(0.02, 0.01, 0.02, 0.3, 1.0))).url
    )
    with pytest.raises(ResourceDoesNotExist):
        create_index(sdk)
    sdk.vector_search_endpoints.create_endpoint("vs", EndpointType.STANDARD)
    with pytest.raises(InvalidParameterValue, match="full index name"):
        create_index(sdk, "docs_index")
    with pytest.raises(InvalidParameterValue, match="does not exist"):
        sdk.vector_search_indexes.create_index(
            INDEX,
            "vs",
            "doc_id",
            VectorIndexType.DELTA_SYNC,
            delta_sync_index_spec=delta_spec("no-such-model"),
        )
    sdk.vector_search_indexes.create_index(
        INDEX, "vs", "doc_id", VectorIndexType.DELTA_SYNC, delta_sync_index_spec=delta_spec()
    )
    created = sdk.vector_search_indexes.get_index(INDEX)
    assert created.index_subtype is IndexSubtype.HYBRID
    assert created.endpoint_id == sdk.vector_search_endpoints.get_endpoint("vs").id
    assert created.delta_sync_index_spec is not None
    assert created.delta_sync_index_spec.pipeline_id
    assert created.status is not None and created.status.index_url
    raw = sdk.api_client.do("GET", f"/api/2.0/vector-search/indexes/{INDEX}")
    assert isinstance(raw, dict)
    if not raw["status"]["ready"]:
        assert raw["status"]["detailed_state"].startswith("PROVISIONING")
    wait_ready(sdk, INDEX)
    raw = sdk.api_client.do("GET", f"/api/2.0/vector-search/indexes/{INDEX}")
    assert isinstance(raw, dict)
    assert raw["status"]["detailed_state"] == "ONLINE_NO_PENDING_UPDATE"
    assert sdk.vector_search_endpoints.get_endpoint("vs").num_indexes == 1
    with pytest.raises(ResourceAlreadyExists):
        create_index(sdk)
    sdk.vector_search_indexes.sync_index(INDEX)
    raw = sdk.api_client.do("GET", f"/api/2.0/vector-search/indexes/{INDEX}")
    assert isinstance(raw, dict)
    assert raw["status"]["detailed_state"] == "ONLINE_TRIGGERED_UPDATE"

    sdk.vector_search_indexes.delete_index(INDEX)
    with pytest.raises(ResourceDoesNotExist):
        sdk.vector_search_indexes.get_index(INDEX)
    with pytest.raises(InvalidParameterValue, match="currently pending deletion"):
        create_index(sdk)
    deadline = time.time() + 5
    while True:  # the name frees up once the deletion completes
        try:
            create_index(sdk)
            break
        except InvalidParameterValue:
            assert time.time() < deadline
            time.sleep(0.05)


def test_direct_access_index_normalizes_schema(sdk: WorkspaceClient) -> None:
    sdk.vector_search_endpoints.create_endpoint("vs", EndpointType.STANDARD)
    sdk.vector_search_indexes.create_index(
        "main.s.direct",
        "vs",
        "id",
        VectorIndexType.DIRECT_ACCESS,
        direct_access_index_spec=DirectAccessVectorIndexSpec(
            schema_json='{"vec": "array<float>", "id": "integer", "n": "long"}',
            embedding_vector_columns=[EmbeddingVectorColumn(name="vec", embedding_dimension=8)],
        ),
    )
    ix = sdk.vector_search_indexes.get_index("main.s.direct")
    assert ix.direct_access_index_spec is not None
    assert ix.direct_access_index_spec.schema_json == (
        '{"id":"int","n":"bigint","vec":"array<float>"}'
    )
    with pytest.raises(InvalidParameterValue):
        sdk.vector_search_indexes.sync_index("main.s.direct")


def test_stop_and_start_an_endpoint(sandbox_factory: Callable[..., SandboxServer]) -> None:
    sdk = workspace_client(
        sandbox_factory(SandboxConfig(delays=Delays(0.02, 0.01, 0.3, 0.02, 0.05))).url
    )
    sdk.vector_search_endpoints.create_endpoint("vs", EndpointType.STANDARD)
    create_index(sdk)
    time.sleep(0.35)
    wait_ready(sdk, INDEX)
    stopped = sdk.vector_search_endpoints.stop_endpoint("vs")
    assert stopped.endpoint_status is not None
    assert stopped.endpoint_status.state is EndpointStatusState.STOPPED
    raw = sdk.api_client.do("GET", f"/api/2.0/vector-search/indexes/{INDEX}")
    assert isinstance(raw, dict)
    assert (raw["status"]["ready"], raw["status"]["detailed_state"]) == (False, "OFFLINE")
    started = sdk.vector_search_endpoints.start_endpoint("vs")
    assert started.endpoint_status is not None
    assert started.endpoint_status.state is EndpointStatusState.STARTING
    online = sdk.vector_search_endpoints.wait_get_endpoint_vector_search_endpoint_online("vs")
    assert online.endpoint_status is not None
    wait_ready(sdk, INDEX)
