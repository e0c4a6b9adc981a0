"""A failed config update says why, where a real endpoint does: the served entity's state."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from databricks.sdk import WorkspaceClient

from reconciler.sandbox import (
    SandboxConfig,
    SandboxServer,
    register_version,
    set_version_status,
    workspace_client,
)

MODEL = "main.support.intent"
API = "/api/2.0/serving-endpoints"


def _entity(version: int, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "entity_name": MODEL,
        "entity_version": str(version),
        "scale_to_zero_enabled": True,
    }


def _settled(sdk: WorkspaceClient, name: str) -> dict[str, Any]:
    """Poll (the sandbox settles on read) until the update has ended."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        doc = sdk.api_client.do("GET", f"{API}/{name}")
        assert isinstance(doc, dict)
        if doc["state"]["config_update"] != "IN_PROGRESS":
            return doc
        time.sleep(0.01)
    raise AssertionError("the update never ended")


def test_update_failed_shows_the_reason_on_the_failed_entity(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    server = sandbox_factory(SandboxConfig.fast())
    sdk = workspace_client(server.url)
    v1 = register_version(sdk, MODEL).version
    v2 = register_version(sdk, MODEL).version
    assert v1 is not None and v2 is not None
    body = {"name": "ep", "config": {"served_entities": [_entity(v1, "champion")]}}
    sdk.api_client.do("POST", API, body=body)
    assert _settled(sdk, "ep")["state"]["config_update"] == "NOT_UPDATING"

    set_version_status(sdk, MODEL, v2, "FAILED_REGISTRATION")
    routes = [
        {"served_entity_name": "champion", "traffic_percentage": 50},
        {"served_entity_name": "other", "traffic_percentage": 50},
    ]
    sdk.api_client.do(
        "PUT",
        f"{API}/ep/config",
        body={
            "served_entities": [_entity(v2, "champion"), _entity(v1, "other")],
            "traffic_config": {"routes": routes},
        },
    )
    doc = _settled(sdk, "ep")
    assert doc["state"]["config_update"] == "UPDATE_FAILED"
    # The old config keeps serving.
    assert [e["entity_version"] for e in doc["config"]["served_entities"]] == [str(v1)]
    states = {e["name"]: e["state"] for e in doc["pending_config"]["served_entities"]}
    assert states["champion"]["deployment"] == "DEPLOYMENT_FAILED"
    assert "FAILED_REGISTRATION" in states["champion"]["deployment_state_message"]
    assert states["other"]["deployment"] == "DEPLOYMENT_ABORTED"
    # The SDK parses it too.
    ep = sdk.serving_endpoints.get("ep")
    assert ep.pending_config is not None
    failed = ep.pending_config.served_entities[0]
    assert failed.state is not None and failed.state.deployment_state_message

    # The next update starts from a clean slate.
    sdk.api_client.do(
        "PUT", f"{API}/ep/config", body={"served_entities": [_entity(v1, "champion")]}
    )
    doc = _settled(sdk, "ep")
    assert doc["state"]["config_update"] == "NOT_UPDATING"
    assert "pending_config" not in doc
