"""Serving endpoints on Databricks: the wire mapping into the spec shape and back, the reads,
and the writes, in the order that keeps an endpoint serving.

An update runs config (``PUT .../config`` with the whole served entity list and traffic, then a
wait until NOT_UPDATING), AI Gateway (``PUT .../ai-gateway`` with the whole object merged over
live, keeping the rate limits that quotas own), tags (add/delete patch), then permissions.
A create sends everything in one POST and waits. The reader also reads the endpoints quotas
belong to (one GET serves both kinds).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, ResourceConflict

from reconciler.adapters.databricks.ai_gateway import (
    gateway_patch,
    merged_gateway,
    normalize_gateway,
)
from reconciler.adapters.databricks.markers import owner_of, tag_map, wire_tags
from reconciler.adapters.databricks.permissions import normalize_permissions, put_permissions
from reconciler.adapters.databricks.reading import (
    KindReader,
    ReadRun,
    Task,
    get_or_none,
    names,
    translated,
)
from reconciler.adapters.databricks.serving_state import (
    ENDED_BADLY,
    read_endpoint,
    wait_entity_versions,
    wait_gone,
    wait_not_updating,
    wait_quietly,
)
from reconciler.adapters.databricks.writing import (
    KindAdapter,
    desired_of,
    ignore_missing,
    tag_changes,
    touches,
)
from reconciler.kinds.diffing import as_int, raw_tags, tags_to_dict
from reconciler.model.changes import Action, Change
from reconciler.model.live import LiveAsset
from reconciler.model.resources import KindName
from reconciler.runtime import retry
from reconciler.runtime.settings import ApplySettings

log = logging.getLogger(__name__)
API = "/api/2.0/serving-endpoints"
OBJECT_TYPE = "serving-endpoints"
"""The object type of serving endpoints in the permissions API (addressed by endpoint id)."""
QUOTA_TAG = "reconciler.quota"
"""Endpoint tag ``reconciler.quota=<project>``: the project whose quota (rate limits) this
endpoint carries (``quota`` writes it; the endpoint's replace keeps it)."""
Doc = dict[str, Any]

ENTITY_FIELDS = (
    "workload_size",
    "workload_type",
    "min_provisioned_concurrency",
    "max_provisioned_concurrency",
    "environment_vars",
)
"""Served-entity fields spelled and valued the same on the wire and in manifests (both ways)."""
CREATE_ONLY = ("description", "route_optimized", "budget_policy_id")
"""Endpoint fields sent only by the create call, spelled the same on the wire."""


# --- wire mapping -----------------------------------------------------------------------


def default_entity_name(entity_name: str, version: Any, external: Mapping[str, Any] | None) -> str:
    """The name the server gives an unnamed served entity: ``<model>-<version>`` (the last part
    of a three-level name), or the external model's name with ``.`` and ``:`` made ``-``."""
    if external and external.get("name"):
        return str(external["name"]).replace(".", "-").replace(":", "-")
    return f"{entity_name.split('.')[-1]}-{version}"


def normalize_entity(raw: Mapping[str, Any]) -> Doc:
    """A ``ServedEntityOutput`` (or legacy ``ServedModelOutput``) in the manifest's terms."""
    entity = raw.get("entity_name") or raw.get("model_name") or ""
    version = as_int(raw.get("entity_version") or raw.get("model_version"))
    out: Doc = {
        "name": raw.get("name") or default_entity_name(entity, version, raw.get("external_model")),
        "entity": entity,
        "version": version,
    }
    for key in ENTITY_FIELDS:
        if raw.get(key) is not None:
            out[key] = raw[key]
    if raw.get("scale_to_zero_enabled") is not None:
        out["scale_to_zero"] = bool(raw["scale_to_zero_enabled"])
    return out


def served_entity(entity: Mapping[str, Any]) -> Doc:
    """A manifest served entity (alias already resolved to ``version``) as ServedEntityInput."""
    out: Doc = {
        "name": entity["name"],
        "entity_name": entity["entity"],
        "entity_version": str(entity["version"]),
        "scale_to_zero_enabled": bool(entity.get("scale_to_zero", False)),
    }
    for key in ENTITY_FIELDS:
        if entity.get(key) is not None:
            out[key] = entity[key]
    return out


def normalize_traffic(routes: Any, entities: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Routes name their target by ``served_entity_name`` or the legacy ``served_model_name``
    (the server echoes both); zero routes are dropped; no routes and one entity means 100%."""
    out: dict[str, int] = {}
    for route in routes or []:
        target = route.get("served_entity_name") or route.get("served_model_name")
        pct = int(route.get("traffic_percentage") or 0)
        if target and pct:
            out[str(target)] = pct
    if not out and len(entities) == 1:
        out[str(entities[0]["name"])] = 100
    return dict(sorted(out.items()))


def core_config(doc: Mapping[str, Any]) -> Doc:
    """Served entities and traffic routes, as ``PUT .../config`` takes them."""
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


def normalize_endpoint(raw: Mapping[str, Any]) -> Doc:
    # During an update the config being moved to is compared; after a failed or cancelled
    # update, ``pending_config`` shows what failed, and the active config is what serves.
    update = str((raw.get("state") or {}).get("config_update") or "")
    pending = raw.get("pending_config") or {}
    if update in ENDED_BADLY:
        pending = {}
    config = pending if pending.get("served_entities") else (raw.get("config") or {})
    raw_entities = config.get("served_entities") or config.get("served_models") or []
    entities = sorted((normalize_entity(e) for e in raw_entities), key=lambda e: e["name"])
    doc: Doc = {"name": raw.get("name")}
    if raw.get("description"):
        doc["description"] = raw["description"]
    doc["route_optimized"] = bool(raw.get("route_optimized", False))
    budget = raw.get("budget_policy_id")
    if budget:
        doc["budget_policy_id"] = budget
    doc["served_entities"] = entities
    doc["traffic"] = normalize_traffic((config.get("traffic_config") or {}).get("routes"), entities)
    doc["ai_gateway"] = normalize_gateway(raw.get("ai_gateway"))
    doc["tags"] = tags_to_dict(raw.get("tags"))
    if "permissions" in raw:
        doc["permissions"] = normalize_permissions(raw["permissions"])
    return doc


def quota_owner(endpoint_tags: Mapping[str, str]) -> str | None:
    return endpoint_tags.get(QUOTA_TAG) or None


# --- reads ------------------------------------------------------------------------------


class EndpointReader(KindReader):
    """Endpoints by name (declared endpoints and the endpoints of declared quotas), their
    permissions when the manifests manage them, and (prune) the endpoints this project marked,
    found by listing: list items carry tags but not the config."""

    kinds = frozenset({KindName.SERVING_ENDPOINT, KindName.QUOTA})

    def __init__(self, run: ReadRun) -> None:
        super().__init__(run)
        self.names = run.wanted[KindName.SERVING_ENDPOINT] | run.wanted[KindName.QUOTA]
        self.endpoints: dict[str, Doc] = {}
        self.owned: list[str] = []

    def round(self, number: int) -> list[Task]:
        if number == 0:
            tasks = [self._task_get(e) for e in sorted(self.names)]
            if self.run.owns(KindName.SERVING_ENDPOINT, KindName.QUOTA):
                tasks.append(lambda: self.owned.extend(self._owned()))
            return tasks
        if number == 1:
            tasks = [self._task_get(e) for e in sorted(set(self.owned) - set(self.names))]
            return tasks + [self._task_permissions(e) for e in self.run.request.permissions_for]
        return []

    def _task_get(self, name: str) -> Task:
        def task() -> None:
            found = get_or_none(
                f"serving endpoint {name}", lambda: self.client.serving_endpoints.get(name)
            )
            if found is not None:
                with self.run.lock:
                    self.endpoints[name] = found.as_dict()

        return task

    def _task_permissions(self, name: str) -> Task:
        def task() -> None:
            raw = self.endpoints.get(name)
            if raw is None or not raw.get("id"):
                return
            found = get_or_none(
                f"permissions of serving endpoint {name}",
                lambda: self.client.serving_endpoints.get_permissions(raw["id"]),
            )
            acl = found.as_dict().get("access_control_list", []) if found is not None else []
            with self.run.lock:
                raw["permissions"] = acl

        return task

    def _owned(self) -> list[str]:
        with translated("serving endpoints"):
            summaries = self.client.serving_endpoints.list()
        found = []
        for summary in summaries:
            tags = raw_tags(summary.as_dict().get("tags"))
            if self.run.project in (owner_of(tags), quota_owner(tags)):
                found.append(str(summary.name))
        return found

    def assemble(self) -> None:
        for name, raw in self.endpoints.items():
            tags = raw_tags(raw.get("tags"))
            self.run.add(KindName.SERVING_ENDPOINT, name, raw, owner_of(tags))
            self.run.add(KindName.QUOTA, name, raw, quota_owner(tags))


def list_endpoints(client: WorkspaceClient) -> list[str]:
    return names("serving endpoints", client.serving_endpoints.list, "name")


# --- writes -----------------------------------------------------------------------------


def _put_config(client: WorkspaceClient, name: str, doc: Mapping[str, Any], address: str) -> None:
    body = core_config(doc)
    retry.call(
        lambda: client.api_client.do("PUT", f"{API}/{name}/config", body=body),
        what=f"updating the config of {name}",
        wait_idle=lambda: wait_quietly(client, name, address),
    )
    wait_not_updating(client, name, address)


def put_gateway(client: WorkspaceClient, name: str, body: Doc, address: str) -> None:
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
        body["add_tags"] = wire_tags(add)
    if remove:
        body["delete_tags"] = remove
    retry.call(
        lambda: client.api_client.do("PATCH", f"{API}/{name}/tags", body=body),
        what=f"updating the tags of {name}",
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
        "tags": wire_tags(tags),
    }
    gateway = gateway_patch(doc.get("ai_gateway") or {})
    if rate_limits:
        gateway["rate_limits"] = rate_limits
    if gateway:
        body["ai_gateway"] = gateway
    for key in CREATE_ONLY:
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
        put_permissions(client, OBJECT_TYPE, str(live["id"]), doc["permissions"])


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
        put_gateway(client, name, body, address)
    add, remove = tag_changes(
        doc.get("tags"), tag_map(live.get("tags")), settings.provenance_tags()
    )
    _patch_tags(client, name, add, remove)
    if doc.get("permissions") is not None and (everything or touches(change, "permissions")):
        put_permissions(client, OBJECT_TYPE, str(live["id"]), doc["permissions"])


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
        keep = {k: v for k, v in tag_map(old.get("tags")).items() if k == QUOTA_TAG}
        _delete(client, change.name, change.address)
        _create(client, change, doc, settings, rate_limits=limits, keep_tags=keep)
    elif change.action is Action.CREATE:
        _create(client, change, doc, settings)
    else:
        _update(client, change, doc, settings)


ADAPTERS = (
    KindAdapter(
        KindName.SERVING_ENDPOINT, normalize_endpoint, apply_serving_endpoint, list_endpoints
    ),
)
READER = EndpointReader
