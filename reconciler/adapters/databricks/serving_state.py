"""A serving endpoint's update state, its health, and the waits writes do on it: config updates
take minutes on Databricks, and an endpoint takes one update at a time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from databricks.sdk.errors import NotFound

from reconciler.adapters.databricks.model_versions import wait_version_ready
from reconciler.adapters.databricks.sdk import WorkspaceClient
from reconciler.model.health import Health, HealthStatus
from reconciler.runtime import retry
from reconciler.runtime.waits import poll_until

API = "/api/2.0/serving-endpoints"
Doc = dict[str, Any]
ENDED_BADLY = ("UPDATE_FAILED", "UPDATE_CANCELED")
ON_THE_WAY = ("DEPLOYMENT_CREATING", "DEPLOYMENT_RECOVERING")
"""Served entity deployment states that end by themselves."""


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


def endpoint_health(doc: Mapping[str, Any]) -> Health | None:
    """Degraded: the last config update failed or was cancelled (the old config may still
    serve), a served entity of the active config failed, or the endpoint is not ready with
    nothing under way. Progressing: not ready (or updating) while a deployment is under way.
    Healthy (None): READY and not updating, or no state given."""
    state = doc.get("state") or {}
    update, ready = state.get("config_update"), state.get("ready")
    if update in ENDED_BADLY:
        return Health(status=HealthStatus.DEGRADED, message=failure_message(doc))
    entities = [(str(e.get("name")), e.get("state") or {}) for e in _active_entities(doc)]
    failed = [(n, s) for n, s in entities if s.get("deployment") == "DEPLOYMENT_FAILED"]
    if failed:
        return Health(status=HealthStatus.DEGRADED, message=_entity_lines(failed))
    moving = [(n, s) for n, s in entities if s.get("deployment") in ON_THE_WAY]
    if ready == "READY" or ready is None:
        if update == "IN_PROGRESS":
            return Health(status=HealthStatus.PROGRESSING, message="config update IN_PROGRESS")
        return None
    if update == "IN_PROGRESS" or moving:
        detail = _entity_lines(moving) if moving else "config update IN_PROGRESS"
        return Health(status=HealthStatus.PROGRESSING, message=f"NOT_READY: {detail}")
    detail = _entity_lines(entities) if entities else "no served entity is ready"
    return Health(status=HealthStatus.DEGRADED, message=f"NOT_READY: {detail}")


def _active_entities(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    config = doc.get("config") or {}
    return [*(config.get("served_entities") or []), *(config.get("served_models") or [])]


def _entity_lines(entities: list[tuple[str, Mapping[str, Any]]]) -> str:
    parts = []
    for name, state in entities:
        text = str(state.get("deployment") or "UNKNOWN")
        if state.get("deployment_state_message"):
            text += f" ({state['deployment_state_message']})"
        parts.append(f"{name}: {text}")
    return "; ".join(parts)


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
        if not entity.get("entity"):
            continue  # an external model: no version to wait for
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
