"""Serving endpoint behaviour recorded on real workspaces (databricks-api.md, last section),
reproduced by the sandbox and driven through the real databricks-sdk. One test per fact."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, NotFound, PermissionDenied
from databricks.sdk.service.serving import (
    EndpointCoreConfigInput,
    ServedEntityInput,
    ServingEndpointAccessControlRequest,
    ServingEndpointPermissionLevel,
)

from reconciler.sandbox import SandboxConfig, SandboxServer, workspace_client

MODEL = "main.support.intent"
ENDPOINTS = "/api/2.0/serving-endpoints"


def entity(version: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "entity_name": MODEL,
        "entity_version": str(version),
        "workload_size": "Small",
        "scale_to_zero_enabled": True,
        **extra,
    }


def create(sdk: WorkspaceClient, name: str = "ep", **body: Any) -> dict[str, Any]:
    body.setdefault("config", {"name": name, "served_entities": [entity()]})
    doc = sdk.api_client.do("POST", ENDPOINTS, body={"name": name, **body})
    assert isinstance(doc, dict)
    return doc


def get(sdk: WorkspaceClient, name: str = "ep") -> dict[str, Any]:
    doc = sdk.api_client.do("GET", f"{ENDPOINTS}/{name}")
    assert isinstance(doc, dict)
    return doc


def idle(sdk: WorkspaceClient, name: str = "ep") -> None:
    """Until the endpoint's config update is over (a second one is refused meanwhile)."""
    deadline = time.monotonic() + 10
    while get(sdk, name)["state"]["config_update"] == "IN_PROGRESS":
        assert time.monotonic() < deadline, "the config update never finished"
        time.sleep(0.01)


def keys_in(doc: Any) -> Iterator[str]:
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield key
            yield from keys_in(value)
    elif isinstance(doc, list):
        for item in doc:
            yield from keys_in(item)


def settled_config(sdk: WorkspaceClient, name: str = "ep") -> dict[str, Any]:
    """The config being deployed or deployed: what GET shows for it."""
    doc = get(sdk, name)
    config = doc.get("pending_config") or doc["config"]
    assert isinstance(config, dict)
    return config


def test_serving_get_never_returns_budget_policy_id(sdk: WorkspaceClient) -> None:
    created = create(sdk, budget_policy_id="bp-1")
    assert "budget_policy_id" not in created
    live = get(sdk)
    assert "budget_policy_id" not in live
    assert live["effective_budget_policy_id"] == "bp-1"
    assert sdk.serving_endpoints.get("ep").budget_policy_id is None
    (item,) = [e for e in sdk.serving_endpoints.list() if e.name == "ep"]
    assert item.budget_policy_id is None


def test_serving_effective_budget_policy_is_inherited_from_the_workspace(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    config = SandboxConfig.fast()
    config.workspace_budget_policy_id = "bp-workspace"
    sdk = workspace_client(sandbox_factory(config).url)
    create(sdk, "plain")
    create(sdk, "own", budget_policy_id="bp-own")
    assert get(sdk, "plain")["effective_budget_policy_id"] == "bp-workspace"
    assert get(sdk, "own")["effective_budget_policy_id"] == "bp-own"
    assert "budget_policy_id" not in get(sdk, "plain")


def test_serving_description_route_optimized_and_budget_policy_have_no_update_path(
    sdk: WorkspaceClient,
) -> None:
    create(sdk, description="first", route_optimized=False, budget_policy_id="bp-1")
    idle(sdk)
    for method in ("PATCH", "PUT"):
        with pytest.raises(NotFound, match="No API found"):
            sdk.api_client.do(method, f"{ENDPOINTS}/ep", body={"description": "second"})
    # The config update takes only the config; anything else in its body is ignored.
    sdk.api_client.do(
        "PUT",
        f"{ENDPOINTS}/ep/config",
        body={
            "served_entities": [entity()],
            "description": "second",
            "route_optimized": True,
            "budget_policy_id": "bp-2",
        },
    )
    live = get(sdk)
    assert live["description"] == "first" and live["route_optimized"] is False
    assert live["effective_budget_policy_id"] == "bp-1"


def test_serving_burst_scaling_enabled_is_accepted_and_not_returned(sdk: WorkspaceClient) -> None:
    create(sdk, config={"name": "ep", "served_entities": [entity(burst_scaling_enabled=True)]})
    assert "burst_scaling_enabled" not in set(keys_in(get(sdk)))
    idle(sdk)
    sdk.serving_endpoints.update_config(
        "ep",
        served_entities=[
            ServedEntityInput(
                entity_name=MODEL,
                entity_version="1",
                workload_size="Small",
                scale_to_zero_enabled=False,
                burst_scaling_enabled=False,
            )
        ],
    )
    assert "burst_scaling_enabled" not in set(keys_in(get(sdk)))
    assert settled_config(sdk)["served_entities"][0]["scale_to_zero_enabled"] is False


EXTERNAL = [
    ("openai", "gpt", {"openai_config": {"openai_api_key_plaintext": "sk-SECRET-1"}}),
    (
        "anthropic",
        "claude",
        {"anthropic_config": {"anthropic_api_key_plaintext": "sk-SECRET-2"}},
    ),
    (
        "amazon-bedrock",
        "titan",
        {
            "amazon_bedrock_config": {
                "aws_region": "us-east-1",
                "bedrock_provider": "amazon",
                "aws_access_key_id_plaintext": "AKIA-SECRET-3",
                "aws_secret_access_key_plaintext": "SECRET-4",
            }
        },
    ),
    (
        "custom",
        "mine",
        {
            "custom_provider_config": {
                "custom_provider_url": "https://llm.example.com",
                "api_key_auth": {"key": "X-Api-Key", "value_plaintext": "SECRET-5"},
            }
        },
    ),
]


def external_entities(items: list[tuple[str, str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [
        {"external_model": {"provider": p, "name": n, "task": "llm/v1/chat", **cfg}}
        for p, n, cfg in items
    ]


def traffic(names: list[str]) -> dict[str, Any]:
    share = 100 // len(names)
    routes = [{"served_entity_name": n, "traffic_percentage": share} for n in names]
    routes[0]["traffic_percentage"] += 100 - share * len(names)
    return {"routes": routes}


def test_serving_plaintext_credentials_are_stored_and_never_returned(
    sdk: WorkspaceClient,
) -> None:
    names = [n for _, n, _ in EXTERNAL]
    created = create(
        sdk,
        "ext",
        config={
            "name": "ext",
            "served_entities": external_entities(EXTERNAL),
            "traffic_config": traffic(names),
        },
    )
    for shown in (created, get(sdk, "ext")):
        text = json.dumps(shown)
        assert "SECRET" not in text
        assert not [k for k in keys_in(shown) if k.endswith("_plaintext")]
    served = {e["name"]: e["external_model"] for e in settled_config(sdk, "ext")["served_entities"]}
    assert sorted(served) == sorted(names)
    # Only the secrets go: the rest of each provider block is returned as written.
    assert served["titan"]["amazon_bedrock_config"] == {
        "aws_region": "us-east-1",
        "bedrock_provider": "amazon",
    }
    assert served["mine"]["custom_provider_config"] == {
        "custom_provider_url": "https://llm.example.com",
        "api_key_auth": {"key": "X-Api-Key"},
    }


def test_serving_secret_references_are_returned_as_written(sdk: WorkspaceClient) -> None:
    ref = "{{secrets/llm/openai_key}}"
    create(
        sdk,
        "ext",
        config={
            "name": "ext",
            "served_entities": external_entities(
                [("openai", "gpt", {"openai_config": {"openai_api_key": ref}})]
            ),
        },
    )
    (served,) = settled_config(sdk, "ext")["served_entities"]
    assert served["external_model"]["openai_config"] == {"openai_api_key": ref}
    assert served["name"] == "gpt"  # the external model's name, as the backend names it
    env = {"TOKEN": "{{secrets/scope/token}}"}
    create(sdk, config={"name": "ep", "served_entities": [entity(environment_vars=env)]})
    assert settled_config(sdk)["served_entities"][0]["environment_vars"] == env


def test_serving_telemetry_table_names_are_input_only(sdk: WorkspaceClient) -> None:
    telemetry = {
        "enabled_telemetry_features": ["TELEMETRY_FEATURE_LOGS"],
        "inference_table_config": {"sampling_fraction": 0.5},
        "table_names": {"logs_table": "main.obs.ep_logs"},
    }
    create(sdk, telemetry_config=telemetry)
    live = get(sdk)["telemetry_config"]
    assert "table_names" not in live
    assert live["telemetry_profile_id"]  # the profile the table names provisioned
    assert live["inference_table_config"] == {
        "sampling_fraction": 0.5,
        "name": "main.obs.ep_logs_payload",
    }
    idle(sdk)
    patched = sdk.api_client.do(
        "PATCH",
        f"{ENDPOINTS}/ep/telemetry-config",
        body={"telemetry_config": {"table_names": {"traces_table": "main.obs.t"}}},
    )
    assert isinstance(patched, dict)
    assert "table_names" not in patched["telemetry_config"]
    assert "table_names" not in get(sdk)["telemetry_config"]


def test_serving_remote_only_telemetry_config_appears_by_itself(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    config = SandboxConfig.fast()
    config.workspace_telemetry_profile_id = "tp-workspace"
    sdk = workspace_client(sandbox_factory(config).url)
    create(sdk)  # no telemetry_config in the request
    assert get(sdk)["telemetry_config"] == {"telemetry_profile_id": "tp-workspace"}


def test_serving_backend_defaults_served_entity_name_and_workload_type(
    sdk: WorkspaceClient,
) -> None:
    create(sdk)  # the entity has neither name nor workload_type
    (served,) = settled_config(sdk)["served_entities"]
    assert (served["name"], served["workload_type"]) == ("intent-1", "CPU")


def test_serving_single_entity_gets_all_traffic_by_default(sdk: WorkspaceClient) -> None:
    sdk.serving_endpoints.create(
        "ep",
        config=EndpointCoreConfigInput(
            name="ep",
            served_entities=[
                ServedEntityInput(
                    entity_name=MODEL,
                    entity_version="1",
                    workload_size="Small",
                    scale_to_zero_enabled=True,
                )
            ],
        ),
    )
    assert settled_config(sdk)["traffic_config"] == {
        "routes": [
            {
                "served_entity_name": "intent-1",
                "served_model_name": "intent-1",
                "traffic_percentage": 100,
            }
        ]
    }


def test_serving_several_entities_require_traffic_config(sdk: WorkspaceClient) -> None:
    two = {"name": "ep", "served_entities": [entity(1), entity(2)]}
    with pytest.raises(InvalidParameterValue, match="traffic_config is required"):
        create(sdk, config=two)
    with pytest.raises(NotFound):
        sdk.serving_endpoints.get("ep")


def test_serving_route_optimized_defaults_to_false(sdk: WorkspaceClient) -> None:
    created = create(sdk)
    assert created["route_optimized"] is False
    assert get(sdk)["route_optimized"] is False
    assert get(sdk, "databricks-bge-large-en")["route_optimized"] is False


def test_serving_auto_capture_enabled_is_echoed(sdk: WorkspaceClient) -> None:
    capture = {"catalog_name": "main", "schema_name": "obs", "table_name_prefix": "ep"}
    create(
        sdk, config={"name": "ep", "served_entities": [entity()], "auto_capture_config": capture}
    )
    assert settled_config(sdk)["auto_capture_config"] == {**capture, "enabled": True}


def test_serving_auto_capture_location_cannot_change_in_place(
    sdk: WorkspaceClient, register_ready: Callable[[str], int]
) -> None:
    register_ready(MODEL)
    capture = {"catalog_name": "main", "schema_name": "obs", "table_name_prefix": "ep"}
    create(
        sdk, config={"name": "ep", "served_entities": [entity()], "auto_capture_config": capture}
    )
    idle(sdk)
    for field in ("catalog_name", "schema_name", "table_name_prefix"):
        moved = {"served_entities": [entity()], "auto_capture_config": {**capture, field: "x"}}
        with pytest.raises(InvalidParameterValue, match=f"{field} cannot be changed"):
            sdk.api_client.do("PUT", f"{ENDPOINTS}/ep/config", body=moved)
    # An update that does not mention the inference table keeps it.
    sdk.api_client.do("PUT", f"{ENDPOINTS}/ep/config", body={"served_entities": [entity()]})
    assert settled_config(sdk)["auto_capture_config"] == {**capture, "enabled": True}


def test_serving_lowering_own_access_locks_the_deployer_out(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    config = SandboxConfig.fast()
    config.caller_is_admin = False  # a deploying service principal, not a workspace admin
    sdk = workspace_client(sandbox_factory(config).url)
    created = create(sdk)
    assert created["permission_level"] == "CAN_MANAGE"
    sdk.serving_endpoints.set_permissions(
        created["id"],
        access_control_list=[
            ServingEndpointAccessControlRequest(
                group_name="ml-team", permission_level=ServingEndpointPermissionLevel.CAN_MANAGE
            ),
            ServingEndpointAccessControlRequest(
                user_name="sandbox-user@example.com",
                permission_level=ServingEndpointPermissionLevel.CAN_VIEW,
            ),
        ],
    )
    assert get(sdk)["permission_level"] == "CAN_VIEW"
    idle(sdk)
    with pytest.raises(PermissionDenied, match="CAN_MANAGE"):
        sdk.api_client.do("PUT", f"{ENDPOINTS}/ep/config", body={"served_entities": [entity()]})
    with pytest.raises(PermissionDenied):
        sdk.serving_endpoints.set_permissions(created["id"], access_control_list=[])
    with pytest.raises(PermissionDenied):
        sdk.serving_endpoints.delete("ep")


def test_serving_admins_keep_manage_whatever_the_acl_says(sdk: WorkspaceClient) -> None:
    created = create(sdk)
    idle(sdk)
    sdk.serving_endpoints.set_permissions(created["id"], access_control_list=[])
    sdk.api_client.do("PUT", f"{ENDPOINTS}/ep/config", body={"served_entities": [entity(2)]})
    assert get(sdk)["permission_level"] == "CAN_MANAGE"
