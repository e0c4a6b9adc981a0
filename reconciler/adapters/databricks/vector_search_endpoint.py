"""Vector Search endpoints on Databricks: the wire mapping, the list read (list items carry the
type, the scaling and the tags, and the tags mark the indexes each endpoint holds, so indexes
read it too; permissions, by endpoint id, when the manifests manage them), and the writes
(create, wait ONLINE, tags, permissions; ``target_qps`` by PATCH; a type change is a replace).

The create call takes no tags, so the ownership marker comes after the wait: an intent record
is written before the create (``intents``). Before an endpoint is deleted or replaced, the
indexes on it are checked again and this project's are deleted first (``held_indexes``); a
replace's plan rebuilds them after it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from databricks.sdk.errors import NotFound, ResourceConflict

from reconciler.adapters.databricks.held_indexes import (
    delete_index,
    held_indexes,
    index_owner,
    indexes_on,
)
from reconciler.adapters.databricks.intents import (
    Intent,
    clear_intent,
    intent_owner,
    list_intents,
    record_intent,
)
from reconciler.adapters.databricks.markers import holder_lock, owner_of, tag_map, wire_tags
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
from reconciler.adapters.databricks.writing import (
    KindAdapter,
    desired_of,
    exists,
    get,
    ignore_missing,
    tag_changes,
    touched_keys,
    touches,
)
from reconciler.kinds.diffing import raw_tags, tags_to_dict
from reconciler.model.changes import Action, Change
from reconciler.model.errors import ApplyError
from reconciler.model.health import Health, HealthStatus
from reconciler.model.live import ExtraRead, LiveAsset
from reconciler.model.resources import KindName, address_of
from reconciler.runtime import retry
from reconciler.runtime.settings import ApplySettings
from reconciler.runtime.waits import poll_until

log = logging.getLogger(__name__)
ENDPOINTS = "/api/2.0/vector-search/endpoints"
OBJECT_TYPE = "vector-search-endpoints"
"""The object type of Vector Search endpoints in the permissions API (addressed by id)."""
PERMISSIONS = f"/api/2.0/permissions/{OBJECT_TYPE}"
LISTED = "vector_search_endpoints"
"""``ReadRun.shared`` key: every endpoint listed, by name (None when not listed)."""
Doc = dict[str, Any]


# --- wire mapping -----------------------------------------------------------------------


def normalize_vs_endpoint(raw: Mapping[str, Any]) -> Doc:
    doc: Doc = {"name": raw.get("name"), "type": raw.get("endpoint_type")}
    # Only the policy set on the endpoint; effective_budget_policy_id may be inherited.
    if raw.get("budget_policy_id"):
        doc["budget_policy_id"] = raw["budget_policy_id"]
    doc["tags"] = tags_to_dict(raw.get("custom_tags"))
    qps = (raw.get("scaling_info") or {}).get("requested_target_qps")
    if qps is not None:
        doc["target_qps"] = int(qps)
    if "permissions" in raw:
        doc["permissions"] = normalize_permissions(raw["permissions"])
    return doc


def create_body(name: str, doc: Mapping[str, Any]) -> Doc:
    body: Doc = {"name": name, "endpoint_type": doc.get("type") or "STANDARD"}
    if doc.get("budget_policy_id"):
        body["budget_policy_id"] = doc["budget_policy_id"]
    if doc.get("target_qps") is not None:
        body["target_qps"] = doc["target_qps"]
    return body


def vs_endpoint_tags(client: WorkspaceClient, name: str) -> dict[str, str]:
    doc = get(client, f"{ENDPOINTS}/{name}", f"reading {name}")
    return tag_map(doc.get("custom_tags"))


def put_vs_endpoint_tags(client: WorkspaceClient, name: str, tags: Mapping[str, str]) -> None:
    """The tags call replaces the endpoint's whole set."""
    body = {"custom_tags": wire_tags(tags)}
    retry.call(
        lambda: client.api_client.do("PATCH", f"{ENDPOINTS}/{name}/tags", body=body),
        what=f"updating the tags of {name}",
    )


# --- reads ------------------------------------------------------------------------------


class EndpointListReader(KindReader):
    """One list call gives every endpoint with its tags: made when the read wants endpoints
    or indexes (whose ownership markers are on their endpoints). Then, only when needed, the
    intent records (an endpoint the plan looks at lacks its marker) and the indexes on each
    endpoint the plan may delete or replace (``ReadRequest.holds_of``) that has any."""

    kinds = frozenset({KindName.VECTOR_SEARCH_ENDPOINT})
    kind = KindName.VECTOR_SEARCH_ENDPOINT

    def __init__(self, run: ReadRun) -> None:
        super().__init__(run)
        self.intents: list[Intent] = []
        self.holds: dict[str, list[str]] = {}

    def round(self, number: int) -> list[Task]:
        kinds = (KindName.VECTOR_SEARCH_ENDPOINT, KindName.VECTOR_INDEX)
        wanted = any(self.run.wanted[k] for k in kinds)
        if number == 0 and (wanted or self.run.owns(*kinds)):
            return [self._list]
        if number == 1:
            tasks: list[Task] = []
            if any(not owner_of(self._tags(n)) for n in self._relevant()):
                tasks.append(self._list_intents)
            names = self.run.request.extra_names(ExtraRead.PERMISSIONS, self.kind)
            return tasks + [self._task_permissions(n) for n in names]
        if number == 2:
            found = listed(self.run)
            held = self.run.holds_of[KindName.VECTOR_SEARCH_ENDPOINT]
            return [
                self._task_holds(n)
                for n in sorted(held & set(found))
                if int(found[n].get("num_indexes") or 0)
            ]
        return []

    def _task_permissions(self, name: str) -> Task:
        """Permissions are addressed by the endpoint's id, which the list gave."""

        def task() -> None:
            raw = listed(self.run).get(name)
            if raw is None or not raw.get("id"):
                return
            path = f"{PERMISSIONS}/{raw['id']}"
            found = get_or_none(
                f"permissions of vector search endpoint {name}",
                lambda: self.client.api_client.do("GET", path),
            )
            acl = found.get("access_control_list", []) if isinstance(found, dict) else []
            with self.run.lock:
                raw["permissions"] = acl

        return task

    def _list(self) -> None:
        with translated("vector search endpoints"):
            found = {
                e.name: e.as_dict() for e in self.client.vector_search_endpoints.list_endpoints()
            }
        with self.run.lock:
            self.run.shared[LISTED] = {str(k): v for k, v in found.items() if k}

    def _list_intents(self) -> None:
        with translated("create intents"):
            found = list_intents(self.client)
        with self.run.lock:
            self.intents = found

    def _task_holds(self, name: str) -> Task:
        def task() -> None:
            found = indexes_on(self.client, listed(self.run)[name])
            with self.run.lock:
                self.holds[name] = found

        return task

    def _tags(self, name: str) -> dict[str, str]:
        return raw_tags(listed(self.run)[name].get("custom_tags"))

    def _relevant(self) -> list[str]:
        """Endpoints the plan looks at: declared ones, and all of them when it prunes."""
        everything = self.run.owns(KindName.VECTOR_SEARCH_ENDPOINT)
        wanted = self.run.wanted[KindName.VECTOR_SEARCH_ENDPOINT]
        return sorted(n for n in listed(self.run) if everything or n in wanted)

    def _owner(self, name: str) -> tuple[str | None, bool]:
        """The owner, and whether it comes from the asset's own marker (not an intent)."""
        owner = owner_of(self._tags(name))
        if owner:
            return owner, True
        created = listed(self.run)[name].get("creation_timestamp")
        address = address_of(KindName.VECTOR_SEARCH_ENDPOINT, name)
        by_intent = intent_owner(self.intents, address, int(created) if created else None)
        return by_intent, by_intent is None

    def assemble(self) -> None:
        for name, raw in listed(self.run).items():
            owner, marked = self._owner(name)
            holds = held_indexes(raw, self.holds.get(name, []))
            self.run.add(
                KindName.VECTOR_SEARCH_ENDPOINT, name, raw, owner, marked=marked, holds=holds
            )


def listed(run: ReadRun) -> dict[str, Doc]:
    """The endpoints this read listed (none when it did not need to)."""
    found: dict[str, Doc] = run.shared.get(LISTED) or {}
    return found


def list_vs_endpoints(client: WorkspaceClient) -> list[str]:
    return names("vector search endpoints", client.vector_search_endpoints.list_endpoints, "name")


# --- writes -----------------------------------------------------------------------------


def endpoint_state(doc: Mapping[str, Any]) -> str:
    return str((doc.get("endpoint_status") or {}).get("state") or "UNKNOWN")


def vs_endpoint_health(raw: Mapping[str, Any]) -> Health | None:
    """Healthy when ONLINE (or no state given); PROVISIONING and STARTING are on their way;
    anything else (OFFLINE, STOPPED, STOPPING, RED_STATE, ...) is degraded: it serves nothing
    until someone acts."""
    status = raw.get("endpoint_status") or {}
    state = status.get("state")
    if not state or state == "ONLINE":
        return None
    message = f"{state}: {status['message']}" if status.get("message") else str(state)
    progressing = state in ("PROVISIONING", "STARTING")
    return Health(
        status=HealthStatus.PROGRESSING if progressing else HealthStatus.DEGRADED, message=message
    )


def wait_online(client: WorkspaceClient, name: str, address: str) -> None:
    def failed(doc: Doc) -> str | None:
        if endpoint_state(doc) != "OFFLINE":
            return None
        return (doc.get("endpoint_status") or {}).get("message") or "endpoint went OFFLINE"

    poll_until(
        lambda: get(client, f"{ENDPOINTS}/{name}", f"reading {name}"),
        lambda doc: endpoint_state(doc) == "ONLINE",
        what=f"waiting for vector search endpoint {name} to be ONLINE",
        address=address,
        failed=failed,
        describe=endpoint_state,
    )


def _set_endpoint_tags(
    client: WorkspaceClient,
    name: str,
    doc: Mapping[str, Any],
    settings: ApplySettings,
    only: set[str] | None = None,
) -> None:
    """The tags call replaces the whole set: live (unmanaged and ignored keys, index markers)
    + the changes of the keys ``only`` names (all, when None). Under the endpoint's lock, so an
    index marker written meanwhile is not lost."""
    with holder_lock(f"vs:{name}"):
        current = vs_endpoint_tags(client, name)
        add, remove = tag_changes(doc.get("tags"), current, settings.provenance_tags(), only=only)
        if not add and not remove:
            return
        tags = {k: v for k, v in current.items() if k not in remove} | add
        put_vs_endpoint_tags(client, name, tags)


def _create_endpoint(
    client: WorkspaceClient, change: Change, doc: Mapping[str, Any], settings: ApplySettings
) -> None:
    """Intent, create, wait ONLINE, tags (the marker), intent cleared: a kill anywhere leaves
    the endpoint marked or covered by its intent."""
    name = change.name
    body = create_body(name, doc)
    record_intent(client, change.address, settings.project)
    try:
        retry.create(
            lambda: client.api_client.do("POST", ENDPOINTS, body=body),
            what=f"creating vector search endpoint {name}",
            happened=lambda: exists(client, f"{ENDPOINTS}/{name}", f"reading {name}"),
        )
    except ResourceConflict as error:
        if "already exists" not in str(error).lower():
            raise
        log.info("vector search endpoint %s already exists: continuing", name)
    wait_online(client, name, change.address)
    _set_endpoint_tags(client, name, doc, settings)
    if doc.get("permissions") is not None:
        _put_permissions(client, name, doc["permissions"])
    clear_intent(client, change.address, settings.project)


def _put_permissions(client: WorkspaceClient, name: str, perms: Any) -> None:
    endpoint_id = get(client, f"{ENDPOINTS}/{name}", f"reading {name}")["id"]
    put_permissions(client, OBJECT_TYPE, str(endpoint_id), perms)


def _clear_held(
    client: WorkspaceClient, change: Change, live: LiveAsset | None, settings: ApplySettings
) -> None:
    """Before the endpoint goes, every index still on it must be this project's and one the
    plan accounted for (checked again now: another project may have added one since the plan
    was made). Those are deleted first; a replace's plan rebuilds them after the endpoint."""
    try:
        raw = get(client, f"{ENDPOINTS}/{change.name}", f"reading {change.name}")
    except NotFound:
        return
    names = indexes_on(client, raw)
    tags = tag_map(raw.get("custom_tags"))
    planned = {h.address for h in (live.holds if live else ()) if h.owner == settings.project}
    strangers = [
        f"{n} (owned by {index_owner(tags, n) or 'no project'})"
        for n in names
        if index_owner(tags, n) != settings.project
        or address_of(KindName.VECTOR_INDEX, n) not in planned
    ]
    if strangers:
        raise ApplyError(
            f"vector search endpoint {change.name} now holds indexes this plan did not account"
            f" for: {', '.join(strangers)}; the endpoint was left as it is",
            address=change.address,
            hint="plan again: the plan refuses to delete what another project or nobody owns",
        )
    for index in names:
        delete_index(client, index, change.address)


def _delete_endpoint(client: WorkspaceClient, name: str, address: str) -> None:
    path = f"{ENDPOINTS}/{name}"
    ignore_missing(
        lambda: client.api_client.do("DELETE", path), what=f"deleting vector search endpoint {name}"
    )
    poll_until(
        lambda: not exists(client, path, f"reading {name}"),
        bool,
        what=f"waiting for vector search endpoint {name} to be deleted",
        address=address,
    )


def apply_vector_search_endpoint(
    client: WorkspaceClient, change: Change, live: LiveAsset | None, settings: ApplySettings
) -> None:
    name = change.name
    by_intent = live is not None and not live.marked
    if change.action in (Action.DELETE, Action.REPLACE):
        _clear_held(client, change, live, settings)
        _delete_endpoint(client, name, change.address)
        if change.action is Action.DELETE:
            if by_intent:
                clear_intent(client, change.address, settings.project)
            return
    doc = desired_of(change)
    if change.action in (Action.CREATE, Action.REPLACE):
        _create_endpoint(client, change, doc, settings)
        return
    if "budget_policy_id" in doc and touches(change, "budget_policy_id"):
        body = {"budget_policy_id": doc["budget_policy_id"]}
        retry.call(
            lambda: client.api_client.do("PATCH", f"{ENDPOINTS}/{name}/budget-policy", body=body),
            what=f"setting the budget policy of {name}",
        )
    if doc.get("target_qps") is not None and touches(change, "target_qps"):
        body = {"target_qps": doc["target_qps"]}
        retry.call(
            lambda: client.api_client.do("PATCH", f"{ENDPOINTS}/{name}", body=body),
            what=f"setting the target QPS of {name}",
        )
    _set_endpoint_tags(client, name, doc, settings, touched_keys(change, "tags"))
    if doc.get("permissions") is not None and touches(change, "permissions"):
        _put_permissions(client, name, doc["permissions"])
    if by_intent:
        clear_intent(client, change.address, settings.project)


ADAPTERS = (
    KindAdapter(
        KindName.VECTOR_SEARCH_ENDPOINT,
        normalize_vs_endpoint,
        apply_vector_search_endpoint,
        list_vs_endpoints,
        health=vs_endpoint_health,
    ),
)
READER = EndpointListReader
