"""Serving endpoints through the real databricks-sdk: waiters, defaults, states and errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import (
    InvalidParameterValue,
    OperationFailed,
    PermissionDenied,
    ResourceAlreadyExists,
    ResourceConflict,
    ResourceDoesNotExist,
)
from databricks.sdk.service.serving import (
    AiGatewayGuardrailParameters,
    AiGatewayGuardrailPiiBehavior,
    AiGatewayGuardrailPiiBehaviorBehavior,
    AiGatewayGuardrails,
    AiGatewayRateLimit,
    AiGatewayRateLimitKey,
    AiGatewayRateLimitRenewalPeriod,
    AiGatewayUsageTrackingConfig,
    EndpointCoreConfigInput,
    EndpointStateConfigUpdate,
    EndpointStateReady,
    EndpointTag,
    Route,
    ServedEntityInput,
    ServedModelStateDeployment,
    ServingEndpointAccessControlRequest,
    ServingEndpointPermissionLevel,
    ServingModelWorkloadType,
    TrafficConfig,
)

from reconciler.sandbox import (
    SandboxConfig,
    SandboxServer,
    register_version,
    set_version_status,
    workspace_client,
)
from reconciler.sandbox.config import Delays

MODEL = "main.support.intent"
WAIT = timedelta(seconds=30)


def entity(version: int, name: str | None = None) -> ServedEntityInput:
    return ServedEntityInput(
        name=name,
        entity_name=MODEL,
        entity_version=str(version),
        workload_size="Small",
        scale_to_zero_enabled=True,
    )


def config(*entities: ServedEntityInput, name: str = "ep") -> EndpointCoreConfigInput:
    return EndpointCoreConfigInput(name=name, served_entities=list(entities))


def raw(sdk: WorkspaceClient, method: str, path: str, **kwargs: Any) -> Any:
    return sdk.api_client.do(method, path, **kwargs)


def test_create_and_wait_fills_defaults_and_becomes_ready(
    sdk: WorkspaceClient, register_ready: Callable[[str], int]
) -> None:
    register_ready(MODEL)
    ep = sdk.serving_endpoints.create_and_wait(
        "ep",
        config=config(entity(1)),
        tags=[EndpointTag(key="team", value="ml"), EndpointTag(key="a", value="1")],
        ai_gateway=None,
        timeout=WAIT,
    )
    assert ep.name == "ep" and ep.id and ep.creator and ep.creation_timestamp
    assert ep.state is not None
    assert ep.state.config_update is EndpointStateConfigUpdate.NOT_UPDATING
    # NOT_UPDATING may precede READY by the readiness delay; poll until the endpoint serves.
    deadline = time.time() + 5
    while sdk.serving_endpoints.get("ep").state.ready is not EndpointStateReady.READY:  # type: ignore[union-attr]
        assert time.time() < deadline
        time.sleep(0.02)
    ep = sdk.serving_endpoints.get("ep")
    assert ep.config is not None and ep.config.config_version == 1
    served = ep.config.served_entities[0]
    assert served.name == "intent-1"
    assert served.workload_type is ServingModelWorkloadType.CPU
    assert served.scale_to_zero_enabled is True and served.workload_size == "Small"
    assert served.state is not None
    assert served.state.deployment is ServedModelStateDeployment.DEPLOYMENT_READY
    assert served.creation_timestamp and served.creator
    assert ep.config.traffic_config is not None
    (route,) = ep.config.traffic_config.routes
    assert (route.served_entity_name, route.served_model_name, route.traffic_percentage) == (
        "intent-1",
        "intent-1",
        100,
    )
    assert [(t.key, t.value) for t in ep.tags] == [("a", "1"), ("team", "ml")]
    assert ep.pending_config is None
    assert ep.permission_level is not None


def test_update_in_progress_has_pending_config_and_blocks_a_second_update(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    server = sandbox_factory(SandboxConfig(delays=Delays(1.0, 0.01, 0.02, 0.02, 0.05)))
    sdk = workspace_client(server.url)
    register_version(sdk, MODEL)
    register_version(sdk, MODEL)
    created = sdk.serving_endpoints.create("ep", config=config(entity(1, "champion")))
    assert created.response.state is not None
    assert created.response.state.config_update is EndpointStateConfigUpdate.IN_PROGRESS
    assert created.response.state.ready is EndpointStateReady.NOT_READY
    assert created.response.pending_config is not None
    assert created.response.pending_config.served_entities[0].name == "champion"
    with pytest.raises(ResourceConflict):
        sdk.serving_endpoints.update_config("ep", served_entities=[entity(2, "champion")])
    created.result(timeout=WAIT)

    waiter = sdk.serving_endpoints.update_config(
        "ep",
        served_entities=[entity(1, "champion"), entity(2, "challenger")],
        traffic_config=TrafficConfig(
            routes=[
                Route(served_entity_name="champion", traffic_percentage=90),
                Route(served_entity_name="challenger", traffic_percentage=10),
            ]
        ),
    )
    during = sdk.serving_endpoints.get("ep")
    assert during.state is not None
    assert during.state.config_update is EndpointStateConfigUpdate.IN_PROGRESS
    assert during.state.ready is EndpointStateReady.READY  # the old config keeps serving
    assert during.pending_config is not None and during.pending_config.config_version == 2
    assert during.config is not None and len(during.config.served_entities) == 1
    with pytest.raises(ResourceConflict, match="currently updating"):
        sdk.serving_endpoints.update_config("ep", served_entities=[entity(2)])
    done = waiter.result(timeout=WAIT)
    assert done.config is not None and done.config.config_version == 2
    assert [e.name for e in done.config.served_entities] == ["champion", "challenger"]
    assert done.config.traffic_config is not None
    assert [r.traffic_percentage for r in done.config.traffic_config.routes] == [90, 10]


def test_update_config_and_wait_replaces_the_whole_config(
    sdk: WorkspaceClient, register_ready: Callable[[str], int]
) -> None:
    register_ready(MODEL)
    register_ready(MODEL)
    sdk.serving_endpoints.create_and_wait(
        "ep",
        config=EndpointCoreConfigInput(
            name="ep",
            served_entities=[entity(1, "a"), entity(2, "b")],
            traffic_config=TrafficConfig(
                routes=[
                    Route(served_entity_name="a", traffic_percentage=50),
                    Route(served_entity_name="b", traffic_percentage=50),
                ]
            ),
        ),
        timeout=WAIT,
    )
    ep = sdk.serving_endpoints.update_config_and_wait(
        "ep", served_entities=[entity(2, "b")], timeout=WAIT
    )
    assert ep.config is not None
    assert [e.name for e in ep.config.served_entities] == ["b"]
    assert ep.config.traffic_config is not None
    assert [r.served_entity_name for r in ep.config.traffic_config.routes] == ["b"]


def test_update_naming_a_missing_or_unready_version_fails(
    sdk: WorkspaceClient, register_ready: Callable[[str], int]
) -> None:
    register_ready(MODEL)
    sdk.serving_endpoints.create_and_wait("ep", config=config(entity(1)), timeout=WAIT)
    with pytest.raises(OperationFailed, match="UPDATE_FAILED"):
        sdk.serving_endpoints.update_config_and_wait(
            "ep", served_entities=[entity(7)], timeout=WAIT
        )
    ep = sdk.serving_endpoints.get("ep")
    assert ep.state is not None
    assert ep.state.config_update is EndpointStateConfigUpdate.UPDATE_FAILED
    assert ep.config is not None and ep.config.served_entities[0].entity_version == "1"

    version = register_ready(MODEL)
    set_version_status(sdk, MODEL, version, "FAILED_REGISTRATION")
    with pytest.raises(OperationFailed):
        sdk.serving_endpoints.update_config_and_wait(
            "ep", served_entities=[entity(version)], timeout=WAIT
        )


def test_list_returns_summaries_only(
    sdk: WorkspaceClient, register_ready: Callable[[str], int]
) -> None:
    register_ready(MODEL)
    sdk.serving_endpoints.create_and_wait("ep", config=config(entity(1)), timeout=WAIT)
    listed = {e.name: e for e in sdk.serving_endpoints.list()}
    assert {
        "ep",
        "databricks-bge-large-en",
        "databricks-gte-large-en",
        "databricks-meta-llama-3-3-70b-instruct",
    } <= set(listed)
    item = listed["ep"]
    assert item.state is not None and item.state.config_update is not None
    assert item.config is not None and item.config.served_entities[0].entity_version == "1"
    body = raw(sdk, "GET", "/api/2.0/serving-endpoints")
    (ep,) = [e for e in body["endpoints"] if e["name"] == "ep"]
    assert set(ep["config"]) == {"served_entities"}
    assert set(ep["config"]["served_entities"][0]) == {"entity_name", "entity_version", "name"}


def test_errors_map_to_sdk_exception_classes(
    sdk: WorkspaceClient, register_ready: Callable[[str], int]
) -> None:
    register_ready(MODEL)
    with pytest.raises(ResourceDoesNotExist, match="does not exist"):
        sdk.serving_endpoints.get("nope")
    sdk.serving_endpoints.create("ep", config=config(entity(1)))
    with pytest.raises(ResourceAlreadyExists):
        sdk.serving_endpoints.create("ep", config=config(entity(1)))
    with pytest.raises(InvalidParameterValue):
        sdk.serving_endpoints.create("bad name!", config=config(entity(1)))
    with pytest.raises(InvalidParameterValue, match="scaleToZeroEnabled is undefined"):
        sdk.serving_endpoints.create(
            "no-scale",
            config=config(ServedEntityInput(entity_name=MODEL, entity_version="1")),
        )
    with pytest.raises(InvalidParameterValue, match="at least one served entity"):
        sdk.serving_endpoints.create("empty", config=config())
    with pytest.raises(InvalidParameterValue, match="traffic_config is required"):
        sdk.serving_endpoints.create("two", config=config(entity(1, "a"), entity(1, "b")))
    with pytest.raises(InvalidParameterValue, match="add up to 100"):
        sdk.serving_endpoints.create(
            "pct",
            config=EndpointCoreConfigInput(
                name="pct",
                served_entities=[entity(1, "a")],
                traffic_config=TrafficConfig(
                    routes=[Route(served_entity_name="a", traffic_percentage=50)]
                ),
            ),
        )
    sdk.serving_endpoints.delete("ep")
    with pytest.raises(ResourceDoesNotExist):
        sdk.serving_endpoints.delete("ep")
    with pytest.raises(PermissionDenied):
        sdk.serving_endpoints.delete("databricks-bge-large-en")


def test_ai_gateway_put_replaces_the_object_and_returns_it(sdk: WorkspaceClient) -> None:
    name = "databricks-meta-llama-3-3-70b-instruct"
    got = sdk.serving_endpoints.put_ai_gateway(
        name,
        usage_tracking_config=AiGatewayUsageTrackingConfig(enabled=True),
        rate_limits=[
            AiGatewayRateLimit(renewal_period=AiGatewayRateLimitRenewalPeriod.MINUTE, calls=100),
            AiGatewayRateLimit(
                renewal_period=AiGatewayRateLimitRenewalPeriod.MINUTE,
                tokens=20000,
                key=AiGatewayRateLimitKey.USER_GROUP,
                principal="support-agents",
            ),
        ],
        guardrails=AiGatewayGuardrails(
            input=AiGatewayGuardrailParameters(
                pii=AiGatewayGuardrailPiiBehavior(
                    behavior=AiGatewayGuardrailPiiBehaviorBehavior.BLOCK
                )
            )
        ),
    )
    assert got.rate_limits[0].key is AiGatewayRateLimitKey.ENDPOINT  # server default
    assert got.rate_limits[1].principal == "support-agents"
    ep = sdk.serving_endpoints.get(name)
    assert ep.ai_gateway is not None and ep.ai_gateway.usage_tracking_config is not None
    assert ep.ai_gateway.guardrails is not None
    again = sdk.serving_endpoints.put_ai_gateway(
        name,
        rate_limits=[
            AiGatewayRateLimit(renewal_period=AiGatewayRateLimitRenewalPeriod.MINUTE, calls=5)
        ],
    )
    assert again.usage_tracking_config is None
    ep = sdk.serving_endpoints.get(name)
    assert ep.ai_gateway is not None
    assert ep.ai_gateway.usage_tracking_config is None and ep.ai_gateway.guardrails is None
    assert [r.calls for r in ep.ai_gateway.rate_limits] == [5]
    with pytest.raises(InvalidParameterValue):
        raw(
            sdk,
            "PUT",
            f"/api/2.0/serving-endpoints/{name}/ai-gateway",
            body={"rate_limits": [{"calls": 1, "renewal_period": "hour"}]},
        )


def test_foundation_endpoints_exist_unowned_with_fixed_config(sdk: WorkspaceClient) -> None:
    ep = sdk.serving_endpoints.get("databricks-bge-large-en")
    assert ep.state is not None and ep.state.ready is EndpointStateReady.READY
    assert ep.config is not None
    fm = ep.config.served_entities[0].foundation_model
    assert fm is not None and fm.name == "databricks-bge-large-en"
    assert ep.tags == []
    with pytest.raises(InvalidParameterValue):
        sdk.serving_endpoints.update_config("databricks-bge-large-en", served_entities=[])


def test_tags_patch_returns_sorted_tags(
    sdk: WorkspaceClient, register_ready: Callable[[str], int]
) -> None:
    register_ready(MODEL)
    sdk.serving_endpoints.create(
        "ep", config=config(entity(1)), tags=[EndpointTag(key="z", value="1")]
    )
    tags = sdk.serving_endpoints.patch(
        "ep",
        add_tags=[EndpointTag(key="b", value="2"), EndpointTag(key="a", value="3")],
        delete_tags=["z"],
    )
    assert [(t.key, t.value) for t in tags.tags] == [("a", "3"), ("b", "2")]
    assert [t.key for t in sdk.serving_endpoints.get("ep").tags] == ["a", "b"]


def test_permissions_by_endpoint_id(
    sdk: WorkspaceClient, register_ready: Callable[[str], int]
) -> None:
    register_ready(MODEL)
    ep = sdk.serving_endpoints.create("ep", config=config(entity(1))).response
    assert ep.id is not None
    perms = sdk.serving_endpoints.get_permissions(ep.id)
    assert perms.object_id == f"/serving-endpoints/{ep.id}"
    admins = [a for a in perms.access_control_list if a.group_name == "admins"]
    assert admins and admins[0].all_permissions[0].inherited is True

    def direct(p: Any) -> set[tuple[str | None, ServingEndpointPermissionLevel | None]]:
        return {
            (a.group_name or a.user_name, a.all_permissions[0].permission_level)
            for a in p.access_control_list
            if not a.all_permissions[0].inherited
        }

    query = ServingEndpointPermissionLevel.CAN_QUERY
    view = ServingEndpointPermissionLevel.CAN_VIEW
    perms = sdk.serving_endpoints.set_permissions(
        ep.id,
        access_control_list=[
            ServingEndpointAccessControlRequest(group_name="a", permission_level=query)
        ],
    )
    assert direct(perms) == {("a", query)}
    perms = sdk.serving_endpoints.update_permissions(
        ep.id,
        access_control_list=[
            ServingEndpointAccessControlRequest(group_name="b", permission_level=view)
        ],
    )
    assert direct(perms) == {("a", query), ("b", view)}
    assert direct(sdk.serving_endpoints.get_permissions(ep.id)) == {("a", query), ("b", view)}
    levels = sdk.serving_endpoints.get_permission_levels(ep.id)
    assert {lvl.permission_level for lvl in levels.permission_levels or []} == {
        ServingEndpointPermissionLevel.CAN_MANAGE,
        query,
        view,
    }
    with pytest.raises(ResourceDoesNotExist):
        sdk.serving_endpoints.get_permissions("no-such-id")
    with pytest.raises(InvalidParameterValue):
        raw(
            sdk,
            "PUT",
            f"/api/2.0/permissions/serving-endpoints/{ep.id}",
            body={"access_control_list": [{"group_name": "x", "permission_level": "CAN_EAT"}]},
        )


def test_telemetry_patch_conflicts_while_updating(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    server = sandbox_factory(SandboxConfig(delays=Delays(5.0, 0.01, 0.02, 0.02, 0.05)))
    sdk = workspace_client(server.url)
    register_version(sdk, MODEL)
    sdk.serving_endpoints.create("ep", config=config(entity(1)))
    with pytest.raises(ResourceConflict):
        raw(
            sdk,
            "PATCH",
            "/api/2.0/serving-endpoints/ep/telemetry-config",
            body={"telemetry_config": {"enabled_telemetry_features": ["TELEMETRY_FEATURE_LOGS"]}},
        )
    # tags and AI Gateway are synchronous and allowed during an update
    sdk.serving_endpoints.patch("ep", add_tags=[EndpointTag(key="k", value="v")])
    sdk.serving_endpoints.put_ai_gateway(
        "ep", usage_tracking_config=AiGatewayUsageTrackingConfig(enabled=True)
    )
