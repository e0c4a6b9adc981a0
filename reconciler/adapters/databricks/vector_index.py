"""Vector Search indexes on Databricks: the wire mapping both ways, the reads, the writes, and
the markers that say which indexes a project owns (``reconciler.index.<index>=<project>`` on the
index's endpoint: indexes have no tags of their own).

Indexes have no update call, so every change of an index is a replace: delete, wait until GET
no longer finds it, create (retried while the name is still "pending deletion"), wait until
ready.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from databricks.sdk.errors import BadRequest, NotFound, ResourceConflict

from reconciler.adapters.databricks.grants import (
    TABLE,
    apply_grants,
    drop_records,
    grant_records,
    grants_task,
    index_prefix,
    records,
    with_grants,
)
from reconciler.adapters.databricks.held_indexes import (
    INDEXES,
    delete_index,
    index_marker_key,
    index_owner,
    indexes_owned,
    is_orphan,
)
from reconciler.adapters.databricks.markers import holder_lock
from reconciler.adapters.databricks.reading import KindReader, ReadRun, Task, get_or_none, names
from reconciler.adapters.databricks.sdk import WorkspaceClient
from reconciler.adapters.databricks.vector_search_endpoint import (
    list_vs_endpoints,
    listed,
    put_vs_endpoint_tags,
    vs_endpoint_tags,
)
from reconciler.adapters.databricks.writing import KindAdapter, desired_of, exists, get
from reconciler.kinds.diffing import raw_tags
from reconciler.kinds.grants import GRANTED_BY, GRANTS
from reconciler.kinds.index_spec import DEFAULT_SUBTYPE, fold_schema
from reconciler.model.changes import Action, Change
from reconciler.model.errors import ApplyError
from reconciler.model.health import Health, HealthStatus
from reconciler.model.live import ExtraRead, LiveAsset
from reconciler.model.resources import KindName
from reconciler.runtime import context, retry
from reconciler.runtime.context import current_settings
from reconciler.runtime.settings import ApplySettings
from reconciler.runtime.waits import DEFAULT_WAIT, poll_until

log = logging.getLogger(__name__)
PENDING_DELETION = "currently pending deletion"
Doc = dict[str, Any]
DELTA_PLAIN = ("columns_to_sync", "embedding_writeback_table")
"""Delta-sync fields spelled the same on the wire and in manifests."""


# --- wire mapping -----------------------------------------------------------------------


def source_columns_in(raw: Any) -> list[Doc]:
    """``embedding_source_columns`` from the API, in manifest terms."""
    out = []
    for col in raw or []:
        doc: Doc = {"name": col.get("name")}
        endpoint = col.get("embedding_model_endpoint_name") or col.get("model_endpoint")
        if endpoint:
            doc["model_endpoint"] = endpoint
        query = col.get("model_endpoint_name_for_query") or col.get("model_endpoint_for_query")
        if query:
            doc["model_endpoint_for_query"] = query
        out.append(doc)
    return out


def source_columns_out(cols: Any) -> list[Doc]:
    """``source_columns_in``'s inverse."""
    out = []
    for c in cols or []:
        col: Doc = {"name": c["name"], "embedding_model_endpoint_name": c["model_endpoint"]}
        if c.get("model_endpoint_for_query"):
            col["model_endpoint_name_for_query"] = c["model_endpoint_for_query"]
        out.append(col)
    return out


def vector_columns_in(raw: Any) -> list[Doc]:
    return [
        {"name": c.get("name"), "dimension": c.get("embedding_dimension", c.get("dimension"))}
        for c in raw or []
    ]


def vector_columns_out(cols: Any) -> list[Doc]:
    return [{"name": c["name"], "embedding_dimension": int(c["dimension"])} for c in cols or []]


def normalize_index(raw: Mapping[str, Any]) -> Doc:
    """The server rewrites ``schema_json`` (Spark type names, sorted keys) and may omit
    ``index_subtype``; both fold away here."""
    doc: Doc = {
        "name": raw.get("name"),
        "endpoint": raw.get("endpoint_name"),
        "primary_key": raw.get("primary_key"),
        "subtype": raw.get("index_subtype") or DEFAULT_SUBTYPE,
    }
    delta = raw.get("delta_sync_index_spec")
    if delta:
        ds: Doc = {
            "source_table": delta.get("source_table"),
            "pipeline_type": delta.get("pipeline_type"),
        }
        if delta.get("embedding_source_columns"):
            ds["embedding_source_columns"] = source_columns_in(delta["embedding_source_columns"])
        if delta.get("embedding_vector_columns"):
            ds["embedding_vector_columns"] = vector_columns_in(delta["embedding_vector_columns"])
        for key in DELTA_PLAIN:
            if delta.get(key):
                ds[key] = delta[key]
        doc["delta_sync"] = ds
    direct = raw.get("direct_access_index_spec")
    if direct:
        da: Doc = {"schema": fold_schema(direct.get("schema_json"))}
        if direct.get("embedding_vector_columns"):
            da["embedding_vector_columns"] = vector_columns_in(direct["embedding_vector_columns"])
        if direct.get("embedding_source_columns"):
            da["embedding_source_columns"] = source_columns_in(direct["embedding_source_columns"])
        doc["direct_access"] = da
    return with_grants(doc, raw)


def index_body(doc: Mapping[str, Any]) -> Doc:
    """The create call's body (``normalize_index``'s inverse)."""
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
            spec["embedding_source_columns"] = source_columns_out(delta["embedding_source_columns"])
        if delta.get("embedding_vector_columns"):
            spec["embedding_vector_columns"] = vector_columns_out(delta["embedding_vector_columns"])
        for key in DELTA_PLAIN:
            if delta.get(key):
                spec[key] = delta[key]
        body["index_type"] = "DELTA_SYNC"
        body["delta_sync_index_spec"] = spec
    else:
        direct = doc.get("direct_access") or {}
        da: Doc = {"schema_json": json.dumps(direct.get("schema") or {}, sort_keys=True)}
        if direct.get("embedding_vector_columns"):
            da["embedding_vector_columns"] = vector_columns_out(direct["embedding_vector_columns"])
        if direct.get("embedding_source_columns"):
            da["embedding_source_columns"] = source_columns_out(direct["embedding_source_columns"])
        body["index_type"] = "DIRECT_ACCESS"
        body["direct_access_index_spec"] = da
    return body


# --- markers ----------------------------------------------------------------------------


def mark_index(
    client: WorkspaceClient, endpoint: str, index: str, project: str, *, present: bool
) -> None:
    """Set (or remove) ``reconciler.index.<index>=<project>`` on the index's endpoint."""
    if not project or not endpoint:
        return
    key = index_marker_key(index)
    with holder_lock(f"vs:{endpoint}"):
        try:
            tags = vs_endpoint_tags(client, endpoint)
        except NotFound:
            if present:
                raise
            return
        if present and tags.get(key) != project:
            put_vs_endpoint_tags(client, endpoint, {**tags, key: project})
        elif not present and tags.get(key) == project:
            put_vs_endpoint_tags(client, endpoint, {k: v for k, v in tags.items() if k != key})


# --- reads ------------------------------------------------------------------------------


class IndexReader(KindReader):
    """Indexes by name (list items have no spec), and (prune) the indexes this project marked
    on the endpoints listed in round 0."""

    kinds = frozenset({KindName.VECTOR_INDEX})

    def __init__(self, run: ReadRun) -> None:
        super().__init__(run)
        self.indexes: dict[str, Doc] = {}
        self.grants: dict[str, list[Doc]] = {}

    def round(self, number: int) -> list[Task]:
        if number == 0:
            wanted = self.run.request.extra_names(ExtraRead.GRANTS, KindName.VECTOR_INDEX)
            tasks = [self._task_get(i) for i in sorted(self.run.wanted[KindName.VECTOR_INDEX])]
            grants = [grants_task(self.run, TABLE, i, self.grants) for i in wanted]
            return tasks + grants
        if number == 1:
            return [self._task_get(i) for i in self._owned()]
        return []

    def _task_get(self, name: str) -> Task:
        def task() -> None:
            # Raw: the SDK's VectorIndexStatus drops status.detailed_state (health needs it).
            found = get_or_none(
                f"vector index {name}",
                lambda: self.client.api_client.do("GET", f"{INDEXES}/{name}"),
            )
            if isinstance(found, dict):
                with self.run.lock:
                    self.indexes[name] = found

        return task

    def _owned(self) -> list[str]:
        project = self.run.project
        if project is None or KindName.VECTOR_INDEX not in self.run.owned_kinds:
            return []
        owned = set()
        for raw in listed(self.run).values():
            owned.update(indexes_owned(raw_tags(raw.get("custom_tags")), project))
        return sorted(owned - set(self.indexes) - self.run.wanted[KindName.VECTOR_INDEX])

    def assemble(self) -> None:
        endpoints = listed(self.run)
        for name, raw in self.indexes.items():
            endpoint_name = str(raw.get("endpoint_name"))
            endpoint = endpoints.get(endpoint_name)
            tags = raw_tags((endpoint or {}).get("custom_tags"))
            owner = index_owner(tags, name)
            rebuild = None
            if is_orphan(raw, endpoint):
                rebuild = (
                    f"its vector search endpoint {endpoint_name} was deleted"
                    + (" and created again" if endpoint is not None else "")
                    + " after it was built, so it is orphaned and never serves again"
                )
            if name in self.grants:
                raw = {
                    **raw,
                    GRANTS: self.grants[name],
                    GRANTED_BY: records(tags, index_prefix(name)),
                }
            self.run.add(KindName.VECTOR_INDEX, name, raw, owner, rebuild=rebuild)


def list_indexes(client: WorkspaceClient) -> list[str]:
    found: list[str] = []
    indexes = client.vector_search_indexes
    for endpoint in list_vs_endpoints(client):
        what = f"vector indexes on {endpoint}"
        found += names(what, functools.partial(indexes.list_indexes, endpoint), "name")
    return sorted(found)


# --- writes -----------------------------------------------------------------------------


def index_status(doc: Mapping[str, Any]) -> str:
    status = doc.get("status") or {}
    return str(status.get("detailed_state") or ("READY" if status.get("ready") else "NOT_READY"))


def index_health(raw: Mapping[str, Any]) -> Health | None:
    """Degraded: an OFFLINE* state (the endpoint is gone or stopped, or the build failed) or
    any failed state (``ONLINE_PIPELINE_FAILED`` still answers queries but no longer syncs).
    Progressing: not ready yet. ``detailed_state`` is only in the raw GET (the SDK drops it)."""
    status = raw.get("status") or {}
    state = str(status.get("detailed_state") or "")
    message = str(status.get("message") or "")
    label = state or ("READY" if status.get("ready") else "NOT_READY")
    text = f"{label}: {message}" if message else label
    if state.startswith("OFFLINE") or "FAILED" in state:
        return Health(status=HealthStatus.DEGRADED, message=text)
    if not status.get("ready", True):
        return Health(status=HealthStatus.PROGRESSING, message=text)
    return None


def wait_index_ready(client: WorkspaceClient, name: str, address: str) -> None:
    def failed(doc: Doc) -> str | None:
        state = index_status(doc)
        if state.startswith("OFFLINE") and "FAILED" in state:
            return f"{state}: {(doc.get('status') or {}).get('message') or 'index failed'}"
        return None

    poll_until(
        lambda: get(client, f"{INDEXES}/{name}", f"reading index {name}"),
        lambda doc: bool((doc.get("status") or {}).get("ready")),
        what=f"waiting for index {name} to be ready",
        address=address,
        failed=failed,
        describe=index_status,
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
            left = context.time_left() if context.current() else DEFAULT_WAIT - spent
            if left <= delay:
                raise ApplyError(
                    f"index {change.name} was still pending deletion after {spent:.0f}s,"
                    " when the change's timeout ran out",
                    address=change.address,
                    hint="raise the timeout of index changes (--change-timeout"
                    " vector_index=DURATION, or timeouts: in the target), or re-run apply once"
                    " the workspace has finished deleting it",
                ) from error
            with context.waiting(what):
                context.sleep(delay)
            delay = min(settings.poll_max, delay * settings.poll_factor)


def _create_index(client: WorkspaceClient, change: Change, doc: Mapping[str, Any]) -> None:
    body = index_body(doc)

    def create() -> None:
        retry.create(
            lambda: client.api_client.do("POST", INDEXES, body=body),
            what=f"creating index {change.name}",
            happened=lambda: exists(client, f"{INDEXES}/{change.name}", f"reading {change.name}"),
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
    if change.action is Action.UPDATE:  # only grants change in place
        doc = desired_of(change)
        holder = grant_records(client, str(doc["endpoint"]), change.name)
        apply_grants(client, change, doc, (TABLE, change.name), project, holder)
        return
    if change.action in (Action.DELETE, Action.REPLACE):
        old_endpoint = index_endpoint(change, live)
        delete_index(client, change.name, change.address)
        if change.action is Action.DELETE:
            mark_index(client, old_endpoint, change.name, project, present=False)
            if old_endpoint:
                drop_records(grant_records(client, old_endpoint, change.name), project)
            return
    doc = desired_of(change)
    mark_index(client, str(doc["endpoint"]), change.name, project, present=True)
    if change.action is Action.ADOPT:  # its marker, and the grants its diffs name
        holder = grant_records(client, str(doc["endpoint"]), change.name)
        apply_grants(client, change, doc, (TABLE, change.name), project, holder)
        return
    if change.action is Action.REPLACE and old_endpoint and old_endpoint != doc["endpoint"]:
        mark_index(client, old_endpoint, change.name, project, present=False)
        drop_records(grant_records(client, old_endpoint, change.name), project)
    _create_index(client, change, doc)
    holder = grant_records(client, str(doc["endpoint"]), change.name)
    apply_grants(client, change, doc, (TABLE, change.name), project, holder)


ADAPTERS = (
    KindAdapter(
        KindName.VECTOR_INDEX,
        normalize_index,
        apply_vector_index,
        list_indexes,
        health=index_health,
    ),
)
READER = IndexReader
