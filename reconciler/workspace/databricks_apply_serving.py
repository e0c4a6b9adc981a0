"""Serving endpoint and quota writes, in the order that keeps an endpoint serving.

An update runs config (``PUT .../config`` with the whole served entity list and traffic, then a
wait until NOT_UPDATING), AI Gateway (``PUT .../ai-gateway`` with the whole object merged over
live, keeping the rate limits that quotas own), tags (add/delete patch), then permissions.
A create sends everything in one POST and waits. A quota replaces only ``rate_limits`` of the
live AI Gateway object, so it works on endpoints this tool does not own.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, ResourceConflict

from reconciler.model.changes import Action, Change
from reconciler.model.errors import ApplyError
from reconciler.model.live import LiveAsset
from reconciler.runtime import retry
from reconciler.runtime.settings import ApplySettings
from reconciler.runtime.waits import poll_until
from reconciler.workspace import databricks_markers as markers
from reconciler.workspace import ownership
from reconciler.workspace.databricks_apply import (
    desired_of,
    ignore_missing,
    tag_changes,
    touches,
    wait_version_ready,
)

log = logging.getLogger(__name__)
API = "/api/2.0/serving-endpoints"
Doc = dict[str, Any]


# --- wire shapes ------------------------------------------------------------------------


def served_entity(entity: Mapping[str, Any]) -> Doc:
    """A manifest served entity (alias already resolved to ``version``) as ServedEntityInput."""
    out: Doc = {
        "name": entity["name"],
        "entity_name": entity["entity"],
        "entity_version": str(entity["version"]),
        "scale_to_zero_enabled": bool(entity.get("scale_to_zero", False)),
    }
    for key in (
        "workload_size",
        "workload_type",
        "min_provisioned_concurrency",
        "max_provisioned_concurrency",
        "environment_vars",
    ):
        if entity.get(key) is not None:
            out[key] = entity[key]
    return out


def core_config(doc: Mapping[str, Any]) -> Doc:
    entities = list(doc["served_entities"])
    traffic = doc.get("traffic") or {entities[0]["name"]: 100}
    routes = [
        {"served_entity_name": e["name"], "traffic_percentage": int(traffic.get(e["name"], 0))}
        for e in entities
    ]
    return {
        "served_entities": [served_entity(e) for e in entities],
        "traffic_config": {"routes": routes},
    }


def gateway_patch(spec: Mapping[str, Any]) -> Doc:
    """The AI Gateway sub-configs a manifest sets, in API terms."""
    out: Doc = {}
    if "usage_tracking" in spec:
        out["usage_tracking_config"] = {"enabled": bool(spec["usage_tracking"])}
    if "fallbacks" in spec:
        out["fallback_config"] = {"enabled": bool(spec["fallbacks"])}
    if "guardrails" in spec:
        sides: Doc = {}
        for side, g in (spec["guardrails"] or {}).items():
            if g is None:
                continue
            params: Doc = {
                k: g[k] for k in ("safety", "invalid_keywords", "valid_topics") if k in g
            }
            if g.get("pii") is not None:
                params["pii"] = {"behavior": g["pii"]}
            sides[side] = params
        out["guardrails"] = sides
    if "inference_tables" in spec:
        t = spec["inference_tables"] or {}
        table: Doc = {"enabled": bool(t.get("enabled", True))}
        for src, dst in (("catalog", "catalog_name"), ("schema", "schema_name")):
            if t.get(src):
                table[dst] = t[src]
        if t.get("table_name_prefix"):
            table["table_name_prefix"] = t["table_name_prefix"]
        out["inference_table_config"] = table
    return out


def merged_gateway(live: Mapping[str, Any] | None, spec: Mapping[str, Any] | None) -> Doc:
    """The whole AI Gateway object to PUT: live, with the manifest's sub-configs over it.

    Rate limits always come from live: the ``quota`` kind owns them.
    """
    out: Doc = dict(live or {})
    out.update(gateway_patch(spec or {}))
    return out


def tag_map(tags: Any) -> dict[str, str]:
    return {str(t["key"]): str(t.get("value") or "") for t in tags or [] if t.get("key")}


def acl(perms: list[Mapping[str, Any]]) -> list[Doc]:
    names = {
        "user": "user_name",
        "group": "group_name",
        "service_principal": "service_principal_name",
    }
    out = []
    for p in perms:
        entry = {names[k]: v for k, v in p.items() if k in names}
        entry["permission_level"] = p["level"]
        out.append(entry)
    return out


# --- reads and waits --------------------------------------------------------------------


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
        failed=lambda doc: (
            failure_message(doc)
            if update_state(doc) in ("UPDATE_FAILED", "UPDATE_CANCELED")
            else None
        ),
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


# --- writes -----------------------------------------------------------------------------


def _put_config(client: WorkspaceClient, name: str, doc: Mapping[str, Any], address: str) -> None:
    body = core_config(doc)
    retry.call(
        lambda: client.api_client.do("PUT", f"{API}/{name}/config", body=body),
        what=f"updating the config of {name}",
        wait_idle=lambda: wait_quietly(client, name, address),
    )
    wait_not_updating(client, name, address)


def wait_quietly(client: WorkspaceClient, name: str, address: str) -> None:
    """Wait for another update to end, whatever its outcome (ours comes next)."""
    poll_until(
        lambda: read_endpoint(client, name),
        lambda doc: update_state(doc) != "IN_PROGRESS",
        what=f"waiting for endpoint {name} to be idle",
        address=address,
        describe=update_state,
    )


def _put_gateway(client: WorkspaceClient, name: str, body: Doc, address: str) -> None:
    retry.call(
        lambda: client.api_client.do("PUT", f"{API}/{name}/ai-gateway", body=body),
        what=f"updating the AI Gateway of {name}",
        wait_idle=lambda: wait_quietly(client, name, address),
    )


def _patch_tags(
    client: WorkspaceClient, name: str, add: Mapping[str, str], remove: list[str]
) -> None:
    if not add and not remove:
        return
    body: Doc = {}
    if add:
        body["add_tags"] = [{"key": k, "value": v} for k, v in sorted(add.items())]
    if remove:
        body["delete_tags"] = remove
    retry.call(
        lambda: client.api_client.do("PATCH", f"{API}/{name}/tags", body=body),
        what=f"updating the tags of {name}",
    )


def _set_permissions(client: WorkspaceClient, endpoint_id: str, perms: list[Any]) -> None:
    body = {"access_control_list": acl(perms)}
    retry.call(
        lambda: client.api_client.do(
            "PUT", f"/api/2.0/permissions/serving-endpoints/{endpoint_id}", body=body
        ),
        what="setting permissions",
    )


def _create(
    client: WorkspaceClient,
    change: Change,
    doc: Mapping[str, Any],
    settings: ApplySettings,
    *,
    rate_limits: list[Doc] | None = None,
    keep_tags: Mapping[str, str] | None = None,
) -> None:
    name = change.name
    wait_entity_versions(client, doc, change.address)
    tags = {**(keep_tags or {}), **(doc.get("tags") or {}), **settings.provenance_tags()}
    body: Doc = {
        "name": name,
        "config": {"name": name, **core_config(doc)},
        "tags": [{"key": k, "value": v} for k, v in sorted(tags.items())],
    }
    gateway = gateway_patch(doc.get("ai_gateway") or {})
    if rate_limits:
        gateway["rate_limits"] = rate_limits
    if gateway:
        body["ai_gateway"] = gateway
    for key in ("description", "route_optimized", "budget_policy_id"):
        if doc.get(key) is not None:
            body[key] = doc[key]
    try:
        retry.call(
            lambda: client.api_client.do("POST", API, body=body), what=f"creating endpoint {name}"
        )
    except ResourceConflict as error:
        if "already exists" not in str(error).lower():
            raise
        log.info("endpoint %s already exists (an earlier attempt created it): updating", name)
        _update(client, change, doc, settings, everything=True)
        return
    live = wait_not_updating(client, name, change.address)
    if doc.get("permissions") is not None:
        _set_permissions(client, str(live["id"]), list(doc["permissions"]))


def _update(
    client: WorkspaceClient,
    change: Change,
    doc: Mapping[str, Any],
    settings: ApplySettings,
    *,
    everything: bool = False,
) -> None:
    name, address = change.name, change.address
    if everything or touches(change, "served_entities", "traffic"):
        wait_entity_versions(client, doc, address)
        _put_config(client, name, doc, address)
    live = read_endpoint(client, name)
    if "ai_gateway" in doc and (everything or touches(change, "ai_gateway")):
        body = merged_gateway(live.get("ai_gateway"), doc["ai_gateway"])
        _put_gateway(client, name, body, address)
    add, remove = tag_changes(
        doc.get("tags"), tag_map(live.get("tags")), settings.provenance_tags()
    )
    _patch_tags(client, name, add, remove)
    if doc.get("permissions") is not None and (everything or touches(change, "permissions")):
        _set_permissions(client, str(live["id"]), list(doc["permissions"]))


def _delete(client: WorkspaceClient, name: str, address: str) -> None:
    ignore_missing(
        lambda: client.api_client.do("DELETE", f"{API}/{name}"), what=f"deleting endpoint {name}"
    )
    wait_gone(client, name, address)


def apply_serving_endpoint(
    client: WorkspaceClient, change: Change, live: LiveAsset | None, settings: ApplySettings
) -> None:
    if change.action is Action.DELETE:
        _delete(client, change.name, change.address)
        return
    doc = desired_of(change)
    if change.action is Action.REPLACE:
        # The rate limits belong to the endpoint's quota, which this plan may not touch:
        # carry them (and the quota's ownership marker) over to the new endpoint.
        try:
            old = read_endpoint(client, change.name)
        except NotFound:
            old = {}
        limits = (old.get("ai_gateway") or {}).get("rate_limits")
        keep = {k: v for k, v in tag_map(old.get("tags")).items() if k == ownership.QUOTA_TAG}
        _delete(client, change.name, change.address)
        _create(client, change, doc, settings, rate_limits=limits, keep_tags=keep)
    elif change.action is Action.CREATE:
        _create(client, change, doc, settings)
    else:
        _update(client, change, doc, settings)


# --- quotas -----------------------------------------------------------------------------


def rate_limit(limit: Mapping[str, Any]) -> Doc:
    out: Doc = {"key": limit.get("key") or "endpoint", "renewal_period": "minute"}
    if limit.get("principal"):
        out["principal"] = limit["principal"]
    if limit.get("calls_per_minute") is not None:
        out["calls"] = int(limit["calls_per_minute"])
    if limit.get("tokens_per_minute") is not None:
        out["tokens"] = int(limit["tokens_per_minute"])
    return out


def apply_quota(
    client: WorkspaceClient, change: Change, live: LiveAsset | None, settings: ApplySettings
) -> None:
    """Replace only the rate limits; every other AI Gateway setting is read fresh and kept.

    The ownership marker (``reconciler.quota``) is set before the limits and removed after them
    (see ``databricks_markers``)."""
    name = change.name
    deleting = change.action is Action.DELETE
    limits: list[Doc] = []
    if not deleting:
        limits = [rate_limit(x) for x in desired_of(change).get("rate_limits") or []]
    try:
        current = read_endpoint(client, name)
    except NotFound:
        if deleting:
            return
        raise ApplyError(
            f"serving endpoint {name} does not exist, so its quota cannot be set",
            address=change.address,
        ) from None
    if not deleting:
        markers.mark_quota(client, name, settings.project, present=True)
    body = dict(current.get("ai_gateway") or {})
    body["rate_limits"] = limits
    _put_gateway(client, name, body, change.address)
    if deleting:
        markers.mark_quota(client, name, settings.project, present=False)
