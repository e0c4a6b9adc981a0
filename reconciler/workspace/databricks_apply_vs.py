"""Vector Search writes: endpoints (create, wait ONLINE, tags) and indexes (create, wait ready).

Indexes have no update call, so every change of an index is a replace: delete, wait until GET
no longer finds it, create (retried while the name is still "pending deletion"), wait until
ready.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import BadRequest, NotFound, ResourceConflict

from reconciler.model.changes import Action, Change
from reconciler.model.errors import ApplyError
from reconciler.model.live import LiveAsset
from reconciler.runtime import context, retry
from reconciler.runtime.context import current_settings
from reconciler.runtime.settings import ApplySettings
from reconciler.runtime.waits import poll_until
from reconciler.workspace import databricks_markers as markers
from reconciler.workspace.databricks_apply import desired_of, ignore_missing, tag_changes, touches

log = logging.getLogger(__name__)
PENDING_DELETION = "currently pending deletion"
ENDPOINTS = "/api/2.0/vector-search/endpoints"
INDEXES = "/api/2.0/vector-search/indexes"
Doc = dict[str, Any]


def _get(client: WorkspaceClient, path: str, what: str) -> Doc:
    doc = retry.call(lambda: client.api_client.do("GET", path), what=what)
    assert isinstance(doc, dict)
    return doc


def _exists(client: WorkspaceClient, path: str, what: str) -> bool:
    try:
        _get(client, path, what)
    except NotFound:
        return False
    return True


# --- endpoints --------------------------------------------------------------------------


def endpoint_state(doc: Mapping[str, Any]) -> str:
    return str((doc.get("endpoint_status") or {}).get("state") or "UNKNOWN")


def wait_online(client: WorkspaceClient, name: str, address: str) -> None:
    def failed(doc: Doc) -> str | None:
        if endpoint_state(doc) != "OFFLINE":
            return None
        return (doc.get("endpoint_status") or {}).get("message") or "endpoint went OFFLINE"

    poll_until(
        lambda: _get(client, f"{ENDPOINTS}/{name}", f"reading {name}"),
        lambda doc: endpoint_state(doc) == "ONLINE",
        what=f"waiting for vector search endpoint {name} to be ONLINE",
        address=address,
        failed=failed,
        describe=endpoint_state,
    )


def _set_endpoint_tags(
    client: WorkspaceClient, name: str, doc: Mapping[str, Any], settings: ApplySettings
) -> None:
    """The tags call replaces the whole set: live (unmanaged keys, index markers) + changes.
    Under the endpoint's lock, so an index marker written meanwhile is not lost."""
    with markers.holder_lock(f"vs:{name}"):
        current = markers.vs_endpoint_tags(client, name)
        add, remove = tag_changes(doc.get("tags"), current, settings.provenance_tags())
        if not add and not remove:
            return
        tags = {k: v for k, v in current.items() if k not in remove} | add
        markers.put_vs_endpoint_tags(client, name, tags)


def _create_endpoint(
    client: WorkspaceClient, change: Change, doc: Mapping[str, Any], settings: ApplySettings
) -> None:
    name = change.name
    body: Doc = {"name": name, "endpoint_type": doc.get("type") or "STANDARD"}
    if doc.get("budget_policy_id"):
        body["budget_policy_id"] = doc["budget_policy_id"]
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
        lambda: not _exists(client, path, f"reading {name}"),
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
    _set_endpoint_tags(client, name, doc, settings)


# --- indexes ----------------------------------------------------------------------------


def _source_columns(cols: Any) -> list[Doc]:
    out = []
    for c in cols or []:
        col: Doc = {"name": c["name"], "embedding_model_endpoint_name": c["model_endpoint"]}
        if c.get("model_endpoint_for_query"):
            col["model_endpoint_name_for_query"] = c["model_endpoint_for_query"]
        out.append(col)
    return out


def _vector_columns(cols: Any) -> list[Doc]:
    return [{"name": c["name"], "embedding_dimension": int(c["dimension"])} for c in cols or []]


def index_body(doc: Mapping[str, Any]) -> Doc:
    body: Doc = {
        "name": doc["name"],
        "endpoint_name": doc["endpoint"],
        "primary_key": doc["primary_key"],
    }
    if doc.get("subtype"):
        body["index_subtype"] = doc["subtype"]
    delta = doc.get("delta_sync")
    if delta:
        spec: Doc = {
            "source_table": delta["source_table"],
            "pipeline_type": delta.get("pipeline_type") or "TRIGGERED",
        }
        if delta.get("embedding_source_columns"):
            spec["embedding_source_columns"] = _source_columns(delta["embedding_source_columns"])
        if delta.get("embedding_vector_columns"):
            spec["embedding_vector_columns"] = _vector_columns(delta["embedding_vector_columns"])
        for key in ("columns_to_sync", "embedding_writeback_table"):
            if delta.get(key):
                spec[key] = delta[key]
        body["index_type"] = "DELTA_SYNC"
        body["delta_sync_index_spec"] = spec
    else:
        direct = doc.get("direct_access") or {}
        da: Doc = {"schema_json": json.dumps(direct.get("schema") or {}, sort_keys=True)}
        if direct.get("embedding_vector_columns"):
            da["embedding_vector_columns"] = _vector_columns(direct["embedding_vector_columns"])
        if direct.get("embedding_source_columns"):
            da["embedding_source_columns"] = _source_columns(direct["embedding_source_columns"])
        body["index_type"] = "DIRECT_ACCESS"
        body["direct_access_index_spec"] = da
    return body


def index_status(doc: Mapping[str, Any]) -> str:
    status = doc.get("status") or {}
    return str(status.get("detailed_state") or ("READY" if status.get("ready") else "NOT_READY"))


def wait_index_ready(client: WorkspaceClient, name: str, address: str) -> None:
    def failed(doc: Doc) -> str | None:
        state = index_status(doc)
        if state.startswith("OFFLINE") and "FAILED" in state:
            return f"{state}: {(doc.get('status') or {}).get('message') or 'index failed'}"
        return None

    poll_until(
        lambda: _get(client, f"{INDEXES}/{name}", f"reading index {name}"),
        lambda doc: bool((doc.get("status") or {}).get("ready")),
        what=f"waiting for index {name} to be ready",
        address=address,
        failed=failed,
        describe=index_status,
    )


def _delete_index(client: WorkspaceClient, name: str, address: str) -> None:
    path = f"{INDEXES}/{name}"
    ignore_missing(lambda: client.api_client.do("DELETE", path), what=f"deleting index {name}")
    poll_until(
        lambda: not _exists(client, path, f"reading index {name}"),
        bool,
        what=f"waiting for index {name} to be deleted",
        address=address,
    )


def _create_while_pending_deletion(create: Callable[[], object], change: Change) -> None:
    """A deleted index's name stays "pending deletion" after GET stops finding it: until
    then a create answers 400 INVALID_PARAMETER_VALUE "... is currently pending deletion".
    Part of a replace, so it is retried with backoff within the change's timeout."""
    settings = current_settings()
    started, delay = time.monotonic(), settings.poll_initial
    while True:
        try:
            create()
            return
        except BadRequest as error:
            if PENDING_DELETION not in str(error).lower():
                raise
            spent = time.monotonic() - started
            what = f"waiting for index {change.name} to finish its deletion"
            if min(settings.change_timeout - spent, context.check_deadline(what)) <= delay:
                raise ApplyError(
                    f"index {change.name} was still pending deletion after {spent:.0f}s",
                    address=change.address,
                    hint="re-run apply once the workspace has finished deleting it",
                ) from error
            with context.waiting(what):
                context.sleep(delay)
            delay = min(settings.poll_max, delay * settings.poll_factor)


def _create_index(client: WorkspaceClient, change: Change, doc: Mapping[str, Any]) -> None:
    body = index_body(doc)

    def create() -> None:
        retry.call(
            lambda: client.api_client.do("POST", INDEXES, body=body),
            what=f"creating index {change.name}",
        )

    try:
        _create_while_pending_deletion(create, change)
    except ResourceConflict as error:
        if "already exists" not in str(error).lower():
            raise
        log.info("index %s already exists (an earlier attempt created it)", change.name)
    wait_index_ready(client, change.name, change.address)


def index_endpoint(change: Change, live: LiveAsset | None) -> str:
    """The Vector Search endpoint the live index is on (a delete has no desired document)."""
    if live is not None and live.raw.get("endpoint_name"):
        return str(live.raw["endpoint_name"])
    before = {d.path: d.before for d in change.diffs}
    if change.action is Action.DELETE and before.get("endpoint"):
        return str(before["endpoint"])
    return str((change.desired or {}).get("endpoint") or "")


def apply_vector_index(
    client: WorkspaceClient, change: Change, live: LiveAsset | None, settings: ApplySettings
) -> None:
    """Marked on its endpoint before it is created, unmarked after it is gone."""
    project = settings.project
    if change.action in (Action.DELETE, Action.REPLACE):
        old_endpoint = index_endpoint(change, live)
        _delete_index(client, change.name, change.address)
        if change.action is Action.DELETE:
            markers.mark_index(client, old_endpoint, change.name, project, present=False)
            return
    doc = desired_of(change)
    markers.mark_index(client, str(doc["endpoint"]), change.name, project, present=True)
    if change.action is Action.REPLACE and old_endpoint and old_endpoint != doc["endpoint"]:
        markers.mark_index(client, old_endpoint, change.name, project, present=False)
    _create_index(client, change, doc)
