"""A serving endpoint's update state, and the waits writes do on it: config updates take
minutes on Databricks, and an endpoint takes one update at a time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound

from reconciler.adapters.databricks.model_versions import wait_version_ready
from reconciler.runtime import retry
from reconciler.runtime.waits import poll_until

API = "/api/2.0/serving-endpoints"
Doc = dict[str, Any]
ENDED_BADLY = ("UPDATE_FAILED", "UPDATE_CANCELED")


def read_endpoint(client: WorkspaceClient, name: str) -> Doc:
    doc = retry.call(lambda: client.api_client.do("GET", f"{API}/{name}"), what=f"reading {name}")
    assert isinstance(doc, dict)
    return doc


def update_state(doc: Mapping[str, Any]) -> str:
    return str((doc.get("state") or {}).get("config_update") or "UNKNOWN")


def failure_message(doc: Mapping[str, Any]) -> str:
    """What the endpoint says went wrong, from wherever it says it."""
    state = doc.get("state") or {}
    messages = [str(state[k]) for k in ("message", "config_update_message") if state.get(k)]
    for config_key in ("pending_config", "config"):
        for entity in (doc.get(config_key) or {}).get("served_entities") or []:
            entity_state = entity.get("state") or {}
            if entity_state.get("deployment") in ("DEPLOYMENT_FAILED", "DEPLOYMENT_ABORTED"):
                text = entity_state.get("deployment_state_message") or entity_state["deployment"]
                messages.append(f"{entity.get('name')}: {text}")
    detail = "; ".join(messages) or "the endpoint gave no message"
    return f"config update ended {update_state(doc)}: {detail}"


def wait_not_updating(client: WorkspaceClient, name: str, address: str) -> Doc:
    return poll_until(
        lambda: read_endpoint(client, name),
        lambda doc: update_state(doc) == "NOT_UPDATING",
        what=f"waiting for endpoint {name} config update",
        address=address,
        failed=lambda doc: failure_message(doc) if update_state(doc) in ENDED_BADLY else None,
        describe=update_state,
    )


def wait_gone(client: WorkspaceClient, name: str, address: str) -> None:
    def read() -> bool:
        try:
            read_endpoint(client, name)
        except NotFound:
            return True
        return False

    poll_until(read, bool, what=f"waiting for endpoint {name} to be deleted", address=address)


def wait_entity_versions(client: WorkspaceClient, doc: Mapping[str, Any], address: str) -> None:
    for entity in doc.get("served_entities") or []:
        wait_version_ready(client, str(entity["entity"]), int(entity["version"]), address=address)


def wait_quietly(client: WorkspaceClient, name: str, address: str) -> None:
    """Wait for another update to end, whatever its outcome (ours comes next)."""
    poll_until(
        lambda: read_endpoint(client, name),
        lambda doc: update_state(doc) != "IN_PROGRESS",
        what=f"waiting for endpoint {name} to be idle",
        address=address,
        describe=update_state,
    )
