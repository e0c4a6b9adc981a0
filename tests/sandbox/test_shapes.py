"""Every response parses into the SDK dataclasses with the fields the facts sheet lists."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.service.catalog import ModelVersionInfoStatus
from databricks.sdk.service.serving import (
    AiGatewayConfig,
    AiGatewayUsageTrackingConfig,
    EndpointCoreConfigInput,
    EndpointStateConfigUpdate,
    EndpointStateReady,
    EndpointTag,
    ServedEntityInput,
    ServedModelStateDeployment,
    ServingEndpointDetailedPermissionLevel,
)
from databricks.sdk.service.vectorsearch import (
    DeltaSyncVectorIndexSpecRequest,
    EndpointStatusState,
    EndpointType,
    IndexSubtype,
    PipelineType,
    VectorIndexType,
)

from reconciler.sandbox import register_version


def assert_fields(obj: Any, *names: str) -> None:
    missing = [n for n in names if getattr(obj, n) in (None, [], "")]
    assert not missing, f"{type(obj).__name__} lacks {missing}"


def until(check: Callable[[], bool]) -> None:
    deadline = time.time() + 5
    while not check():
        assert time.time() < deadline
        time.sleep(0.01)


def test_serving_shapes(sdk: WorkspaceClient) -> None:
    register_version(sdk, "main.s.m")
    sdk.serving_endpoints.create(
        "ep",
        config=EndpointCoreConfigInput(
            name="ep",
            served_entities=[
                ServedEntityInput(
                    entity_name="main.s.m",
                    entity_version="1",
                    workload_size="Small",
                    scale_to_zero_enabled=False,
                    environment_vars={"KEY": "{{secrets/scope/key}}"},
                )
            ],
        ),
        tags=[EndpointTag(key="team", value="a")],
        ai_gateway=AiGatewayConfig(
            usage_tracking_config=AiGatewayUsageTrackingConfig(enabled=True)
        ),
        description="d",
        budget_policy_id="bp",
        route_optimized=True,
    )

    def ready() -> bool:
        state = sdk.serving_endpoints.get("ep").state
        return state is not None and state.ready is EndpointStateReady.READY

    until(ready)
    ep = sdk.serving_endpoints.get("ep")
    assert_fields(
        ep,
        "name", "id", "creator", "creation_timestamp", "last_updated_timestamp", "description",
        "route_optimized", "endpoint_url", "tags", "ai_gateway",
        "permission_level", "state", "config",
    )  # fmt: skip
    assert ep.budget_policy_id is None  # accepted on create, never returned (see recorded)
    assert ep.permission_level is ServingEndpointDetailedPermissionLevel.CAN_MANAGE
    assert ep.state is not None
    assert ep.state.config_update is EndpointStateConfigUpdate.NOT_UPDATING
    assert ep.config is not None
    assert_fields(ep.config, "config_version", "served_entities", "traffic_config")
    served = ep.config.served_entities[0]
    assert_fields(
        served,
        "name", "entity_name", "entity_version", "workload_size", "workload_type",
        "environment_vars", "creation_timestamp", "creator", "state",
    )  # fmt: skip
    assert served.scale_to_zero_enabled is False
    assert served.environment_vars == {"KEY": "{{secrets/scope/key}}"}
    assert served.state is not None
    assert served.state.deployment is ServedModelStateDeployment.DEPLOYMENT_READY

    (item,) = [e for e in sdk.serving_endpoints.list() if e.name == "ep"]
    assert_fields(
        item,
        "name", "id", "creator", "creation_timestamp", "last_updated_timestamp", "state",
        "tags", "ai_gateway", "description", "config",
    )  # fmt: skip
    (fm,) = [e for e in sdk.serving_endpoints.list() if e.name == "databricks-gte-large-en"]
    assert fm.task == "llm/v1/embeddings" and fm.config is not None
    assert fm.config.served_entities[0].foundation_model is not None


def test_unity_catalog_shapes(sdk: WorkspaceClient) -> None:
    register_version(sdk, "main.s.m", comment="first", run_id="r1")
    alias = sdk.registered_models.set_alias("main.s.m", "champion", 1)
    assert_fields(alias, "alias_name", "version_num", "catalog_name", "schema_name", "model_name")
    assert_fields(alias, "id")
    sdk.registered_models.update("main.s.m", comment="c")
    model = sdk.registered_models.get("main.s.m", include_aliases=True)
    assert_fields(
        model,
        "full_name", "catalog_name", "schema_name", "name", "comment", "owner",
        "storage_location", "metastore_id", "created_at", "created_by", "updated_at",
        "updated_by", "aliases",
    )  # fmt: skip
    assert model.browse_only is False
    version = sdk.model_versions.get("main.s.m", 1, include_aliases=True)
    assert_fields(
        version,
        "version", "model_name", "catalog_name", "schema_name", "id", "comment", "source",
        "run_id", "storage_location", "status", "aliases", "created_at", "created_by",
        "updated_at", "updated_by", "metastore_id",
    )  # fmt: skip
    assert version.status is ModelVersionInfoStatus.READY
    assert version.run_workspace_id is not None


def test_vector_search_shapes(sdk: WorkspaceClient) -> None:
    sdk.vector_search_endpoints.create_endpoint(
        "vs", EndpointType.STANDARD, budget_policy_id="bp", target_qps=3
    )
    sdk.vector_search_endpoints.update_endpoint_custom_tags("vs", [])
    sdk.vector_search_indexes.create_index(
        "main.s.idx",
        "vs",
        "id",
        VectorIndexType.DELTA_SYNC,
        delta_sync_index_spec=DeltaSyncVectorIndexSpecRequest(
            source_table="main.s.docs", pipeline_type=PipelineType.CONTINUOUS
        ),
    )

    def online() -> bool:
        status = sdk.vector_search_endpoints.get_endpoint("vs").endpoint_status
        return status is not None and status.state is EndpointStatusState.ONLINE

    until(online)
    ep = sdk.vector_search_endpoints.get_endpoint("vs")
    assert_fields(
        ep,
        "name", "id", "endpoint_type", "endpoint_status", "num_indexes", "creator",
        "creation_timestamp", "last_updated_timestamp", "last_updated_user",
        "effective_budget_policy_id", "scaling_info",
    )  # fmt: skip
    assert ep.budget_policy_id is None  # only the effective one is returned
    assert ep.endpoint_status is not None
    assert_fields(ep.endpoint_status, "state", "message")

    def ready() -> bool:
        status = sdk.vector_search_indexes.get_index("main.s.idx").status
        return status is not None and bool(status.ready)

    until(ready)
    index = sdk.vector_search_indexes.get_index("main.s.idx")
    assert_fields(
        index,
        "name", "endpoint_name", "endpoint_id", "primary_key", "index_type", "index_subtype",
        "creator", "delta_sync_index_spec", "status",
    )  # fmt: skip
    assert index.index_subtype is IndexSubtype.HYBRID
    assert index.status is not None
    assert_fields(index.status, "message", "index_url")
    assert index.status.indexed_row_count == 0
    assert index.delta_sync_index_spec is not None
    assert index.delta_sync_index_spec.pipeline_type is PipelineType.CONTINUOUS
    raw = sdk.api_client.do("GET", "/api/2.0/vector-search/indexes/main.s.idx")
    assert isinstance(raw, dict)
    assert raw["status"]["detailed_state"] == "ONLINE_CONTINUOUS_UPDATE"
