"""Vector Search endpoints on Databricks: the wire mapping, the list read (list items carry the
type and the tags, and the tags mark the indexes each endpoint holds, so indexes read it too),
and the writes (create, wait ONLINE, tags; a type change is a replace)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import ResourceConflict

from reconciler.adapters.databricks.markers import holder_lock, owner_of, tag_map, wire_tags
from reconciler.adapters.databricks.reading import KindReader, ReadRun, Task, names, translated
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
from reconciler.model.live import LiveAsset
from reconciler.model.resources import KindName
from reconciler.runtime import retry
from reconciler.runtime.settings import ApplySettings
from reconciler.runtime.waits import poll_until

log = logging.getLogger(__name__)
ENDPOINTS = "/api/2.0/vector-search/endpoints"
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
    return doc


def create_body(name: str, doc: Mapping[str, Any]) -> Doc:
    body: Doc = {"name": name, "endpoint_type": doc.get("type") or "STANDARD"}
    if doc.get("budget_policy_id"):
        body["budget_policy_id"] = doc["budget_policy_id"]
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
    or indexes (whose ownership markers are on their endpoints)."""

    kinds = frozenset({KindName.VECTOR_SEARCH_ENDPOINT})

    def round(self, number: int) -> list[Task]:
        kinds = (KindName.VECTOR_SEARCH_ENDPOINT, KindName.VECTOR_INDEX)
        wanted = any(self.run.wanted[k] for k in kinds)
        if number == 0 and (wanted or self.run.owns(*kinds)):
            return [self._list]
        return []

    def _list(self) -> None:
        with translated("vector search endpoints"):
            found = {
                e.name: e.as_dict() for e in self.client.vector_search_endpoints.list_endpoints()
            }
        with self.run.lock:
            self.run.shared[LISTED] = {str(k): v for k, v in found.items() if k}

    def assemble(self) -> None:
        for name, raw in listed(self.run).items():
            tags = raw_tags(raw.get("custom_tags"))
            self.run.add(KindName.VECTOR_SEARCH_ENDPOINT, name, raw, owner_of(tags))


def listed(run: ReadRun) -> dict[str, Doc]:
    """The endpoints this read listed (none when it did not need to)."""
    found: dict[str, Doc] = run.shared.get(LISTED) or {}
    return found


def list_vs_endpoints(client: WorkspaceClient) -> list[str]:
    return names("vector search endpoints", client.vector_search_endpoints.list_endpoints, "name")


# --- writes -----------------------------------------------------------------------------


def endpoint_state(doc: Mapping[str, Any]) -> str:
    return str((doc.get("endpoint_status") or {}).get("state") or "UNKNOWN")


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
    name = change.name
    body = create_body(name, doc)
    try:
        retry.call(
            lambda: client.api_client.do("POST", ENDPOINTS, body=body),
            what=f"creating vector search endpoint {name}",
        )
    except ResourceConflict as error:
        if "already exists" not in str(error).lower():
            raise
        log.info("vector search endpoint %s already exists: continuing", name)
    wait_online(client, name, change.address)
    _set_endpoint_tags(client, name, doc, settings)


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
    if change.action is Action.DELETE:
        _delete_endpoint(client, name, change.address)
        return
    doc = desired_of(change)
    if change.action is Action.REPLACE:
        _delete_endpoint(client, name, change.address)
    if change.action in (Action.CREATE, Action.REPLACE):
        _create_endpoint(client, change, doc, settings)
        return
    if "budget_policy_id" in doc and touches(change, "budget_policy_id"):
        body = {"budget_policy_id": doc["budget_policy_id"]}
        retry.call(
            lambda: client.api_client.do("PATCH", f"{ENDPOINTS}/{name}/budget-policy", body=body),
            what=f"setting the budget policy of {name}",
        )
    _set_endpoint_tags(client, name, doc, settings, touched_keys(change, "tags"))


ADAPTERS = (
    KindAdapter(
        KindName.VECTOR_SEARCH_ENDPOINT,
        normalize_vs_endpoint,
        apply_vector_search_endpoint,
        list_vs_endpoints,
    ),
)
READER = EndpointListReader
