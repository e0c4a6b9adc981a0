"""Serving endpoints on Databricks: the wire mapping into the spec shape and back, the reads,
and the writes, in the order that keeps an endpoint serving.

An update runs config (``PUT .../config`` with the whole served entity list and traffic, each
entity carrying the live fields the manifest does not set, see ``serving_config``; then a wait
until NOT_UPDATING), AI Gateway (``PUT .../ai-gateway`` with the whole object merged over live,
keeping the rate limits that quotas own), tags (add/delete patch of the keys the plan names),
then permissions. A create sends everything in one POST and waits. The reader also reads the
endpoints quotas belong to (one GET serves both kinds).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from typing import Any

from databricks.sdk.errors import NotFound, ResourceConflict
from databricks.sdk.service.serving import ServingEndpointsAPI

from reconciler.adapters.databricks.ai_gateway import (
    merged_gateway,
    normalize_gateway,
    unmodelled_gateway_fields,
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
from reconciler.adapters.databricks.sdk import WorkspaceClient
from reconciler.adapters.databricks.serving_config import (
    compared_config,
    core_config,
    normalize_entity,
    normalize_traffic,
    unmodelled_entity_fields,
)
from reconciler.adapters.databricks.serving_state import (
    endpoint_health,
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
    touched_keys,
    touches,
)
from reconciler.kinds.diffing import own_tag, raw_tags, tags_to_dict
from reconciler.kinds.serving_endpoint import CONFIG, REPLACE_CARRIES, canonical_notifications
from reconciler.model.changes import Action, Change
from reconciler.model.live import ExtraRead, Held, LiveAsset
from reconciler.model.resources import KindName, address_of
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

CREATE_ONLY = ("description", "route_optimized", "budget_policy_id")
"""Endpoint fields sent only by the create call, spelled the same on the wire."""
NOTIFICATIONS = "email_notifications"
NOTIFY_LISTS = ("on_update_failure", "on_update_success")
"""Spelled the same on the wire; set by the create call, changed by ``PATCH .../notifications``."""
ENDPOINT_INPUT = frozenset(inspect.signature(ServingEndpointsAPI.create).parameters) - {"self"}
"""Every endpoint field the create call takes (the SDK's signature)."""
ENDPOINT_MODELLED = frozenset(
    {"name", "config", "ai_gateway", "tags", "rate_limits", NOTIFICATIONS, *CREATE_ONLY}
)
"""Of those, what the manifests express (``rate_limits``: the legacy ones, never returned)."""


# --- wire mapping -----------------------------------------------------------------------


def normalize_endpoint(raw: Mapping[str, Any]) -> Doc:
    config = compared_config(raw)
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
    notifications = canonical_notifications(raw.get(NOTIFICATIONS))
    if notifications:
        doc[NOTIFICATIONS] = notifications
    if "permissions" in raw:
        doc["permissions"] = normalize_permissions(raw["permissions"])
    return doc


def unmodelled_endpoint_fields(raw: Mapping[str, Any]) -> list[str]:
    """Live endpoint fields the manifests cannot express: endpoint settings, served entity
    fields and AI Gateway settings."""
    top = sorted(k for k in ENDPOINT_INPUT - ENDPOINT_MODELLED if raw.get(k) not in (None, {}, []))
    return [*top, *unmodelled_entity_fields(raw), *unmodelled_gateway_fields(raw.get("ai_gateway"))]


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
            wanted = self.run.request.extra_names(ExtraRead.PERMISSIONS, KindName.SERVING_ENDPOINT)
            return tasks + [self._task_permissions(e) for e in wanted]
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
            quota = quota_owner(tags)
            # A replace carries the rate limits over; a delete takes a marked quota with it.
            holds = (Held(address_of(KindName.QUOTA, name), quota, kept_on_replace=True),)
            owner = owner_of(tags)
            self.run.add(KindName.SERVING_ENDPOINT, name, raw, owner, holds=holds if quota else ())
            self.run.add(KindName.QUOTA, name, raw, quota)


def list_endpoints(client: WorkspaceClient) -> list[str]:
    return names("serving endpoints", client.serving_endpoints.list, "name")


# --- writes -----------------------------------------------------------------------------


def _put_config(
    client: WorkspaceClient,
    name: str,
    doc: Mapping[str, Any],
    address: str,
    live: Mapping[str, Any],
) -> None:
    body = core_config(doc, live)
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
    old: Mapping[str, Any] | None = None,
) -> None:
    """Create the endpoint in one POST. ``old`` is the endpoint a replace deleted: what the
    manifest does not set is carried from it (its entities' unset fields, its AI Gateway with
    the rate limits quotas own, its tags when the manifest sets none, the quota's marker, its
    description and the settings of ``REPLACE_CARRIES``)."""
    name = change.name
    old = old or {}
    wait_entity_versions(client, doc, change.address)
    old_tags = tag_map(old.get("tags"))
    keep = {k: v for k, v in old_tags.items() if k == QUOTA_TAG}
    if "tags" not in doc:
        keep.update({k: v for k, v in old_tags.items() if not own_tag(k)})
    tags = {**keep, **(doc.get("tags") or {}), **settings.provenance_tags()}
    body: Doc = {
        "name": name,
        "config": {"name": name, **core_config(doc, old or None)},
        "tags": wire_tags(tags),
    }
    gateway = merged_gateway(old.get("ai_gateway"), doc.get("ai_gateway"))
    if gateway:
        body["ai_gateway"] = gateway
    for key in CREATE_ONLY:
        if doc.get(key) is not None:
            body[key] = doc[key]
    if doc.get(NOTIFICATIONS):
        body[NOTIFICATIONS] = doc[NOTIFICATIONS]
    for key in (*CREATE_ONLY, *REPLACE_CARRIES):
        if key not in body and old.get(key) not in (None, {}, []):
            body[key] = old[key]
    try:
        retry.create(
            lambda: client.api_client.do("POST", API, body=body),
            what=f"creating endpoint {name}",
            happened=lambda: _created_by(client, name, settings.project),
        )
    except ResourceConflict as error:
        if "already exists" not in str(error).lower():
            raise
        log.info("endpoint %s already exists (an earlier attempt created it): updating", name)
        _update(client, change, doc, settings, None, everything=True)
        return
    live = wait_not_updating(client, name, change.address)
    if doc.get("permissions") is not None:
        put_permissions(client, OBJECT_TYPE, str(live["id"]), doc["permissions"])


def _created_by(client: WorkspaceClient, name: str, project: str) -> bool:
    """Whether a create whose answer was lost made the endpoint: it exists and carries the
    ownership marker the create call sent (without a project, existing is enough)."""
    try:
        live = read_endpoint(client, name)
    except NotFound:
        return False
    return not project or owner_of(tag_map(live.get("tags"))) == project


def _update(
    client: WorkspaceClient,
    change: Change,
    doc: Mapping[str, Any],
    settings: ApplySettings,
    planned: Mapping[str, Any] | None,
    *,
    everything: bool = False,
) -> None:
    """Each call sends what the change's diffs touch. ``planned`` is the endpoint as the plan
    read it (None: read it now): the config write carries its entities' unset fields."""
    name, address = change.name, change.address
    if everything or touches(change, *CONFIG):
        wait_entity_versions(client, doc, address)
        current = planned if planned is not None else read_endpoint(client, name)
        _put_config(client, name, doc, address, current)
    live = read_endpoint(client, name)
    if "ai_gateway" in doc and (everything or touches(change, "ai_gateway")):
        body = merged_gateway(live.get("ai_gateway"), doc["ai_gateway"])
        put_gateway(client, name, body, address)
    add, remove = tag_changes(
        doc.get("tags"),
        tag_map(live.get("tags")),
        settings.provenance_tags(),
        only=None if everything else touched_keys(change, "tags"),
    )
    _patch_tags(client, name, add, remove)
    if NOTIFICATIONS in doc and (everything or touches(change, NOTIFICATIONS)):
        _patch_notifications(client, name, doc[NOTIFICATIONS])
    if doc.get("permissions") is not None and (everything or touches(change, "permissions")):
        put_permissions(client, OBJECT_TYPE, str(live["id"]), doc["permissions"])


def _patch_notifications(client: WorkspaceClient, name: str, notifications: Doc) -> None:
    """The whole object: a list the manifest leaves out is emptied."""
    body = {NOTIFICATIONS: {k: list(notifications.get(k) or []) for k in NOTIFY_LISTS}}
    retry.call(
        lambda: client.api_client.do("PATCH", f"{API}/{name}/notifications", body=body),
        what=f"updating the email notifications of {name}",
    )


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
        # Read just before the delete: the rate limits (the quota's, which this plan may not
        # touch) and what the manifest does not set go over to the new endpoint.
        try:
            old = read_endpoint(client, change.name)
        except NotFound:
            old = {}
        _delete(client, change.name, change.address)
        _create(client, change, doc, settings, old=old)
    elif change.action is Action.CREATE:
        _create(client, change, doc, settings)
    else:
        _update(client, change, doc, settings, live.raw if live is not None else None)


ADAPTERS = (
    KindAdapter(
        KindName.SERVING_ENDPOINT,
        normalize_endpoint,
        apply_serving_endpoint,
        list_endpoints,
        unmodelled_endpoint_fields,
        health=endpoint_health,
    ),
)
READER = EndpointReader
