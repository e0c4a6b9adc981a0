"""Apply's side of ownership: the markers prune reads (``reconciler.workspace.ownership``).

Kinds without tags of their own are marked on the asset that holds them: an alias in the
``reconciler.aliases.<project>`` inventory of its model, an index as ``reconciler.index.<index>``
on its Vector Search endpoint, a quota as ``reconciler.quota`` on its serving endpoint.

Order makes a crash harmless. A marker is written *before* the asset (a crash in between leaves
a marker naming nothing: the read side only interprets markers of assets that exist, and the
re-run creates the asset), and removed *after* it (a crash in between leaves the asset marked,
so the re-run plans its delete again). The other order could leave a live asset unmarked,
which prune would never find.

Inventories are read-modify-write of one tag (alias inventory) or of the whole tag set (Vector
Search endpoints, whose tags call replaces the set), so writes to one holder take a lock:
changes of one apply run in threads of one process, and the target lock keeps other applies out.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound

from reconciler.runtime import retry
from reconciler.workspace import ownership

MODEL_TAGS = "/api/2.0/mlflow/unity-catalog/registered-models/get"
"""Model tags as Databricks workspaces serve them (MLflow's Unity Catalog route)."""
SECURABLE_TAGS = "/api/2.1/unity-catalog/securable-tags/FUNCTION"
VS_ENDPOINTS = "/api/2.0/vector-search/endpoints"
SERVING_ENDPOINTS = "/api/2.0/serving-endpoints"

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def holder_lock(key: str) -> threading.Lock:
    """One lock per tag holder (``model:<name>``, ``vs:<name>``) for this process."""
    with _locks_guard:
        return _locks.setdefault(key.lower(), threading.Lock())


def _tag_map(tags: Any) -> dict[str, str]:
    return {str(t["key"]): str(t.get("value") or "") for t in tags or [] if t.get("key")}


# --- registered model tags --------------------------------------------------------------


def model_tags(client: WorkspaceClient, full_name: str) -> dict[str, str]:
    doc = retry.call(
        lambda: client.api_client.do("GET", MODEL_TAGS, query={"name": full_name}),
        what=f"reading tags of {full_name}",
    )
    model = doc.get("registered_model") if isinstance(doc, dict) else None
    return _tag_map(model.get("tags") if isinstance(model, dict) else None)


def patch_model_tags(
    client: WorkspaceClient, full_name: str, add: Mapping[str, str], remove: list[str]
) -> None:
    path = f"{SECURABLE_TAGS}/{full_name}"
    if remove:
        body: dict[str, Any] = {"changes": {"remove": remove}}
        retry.call(lambda: client.api_client.do("PATCH", path, body=body), what="removing tags")
    if add:
        tags = [{"key": k, "value": v} for k, v in sorted(add.items())]
        body = {"changes": {"add_tags": tags}}
        retry.call(lambda: client.api_client.do("PATCH", path, body=body), what="adding tags")


def mark_alias(
    client: WorkspaceClient, model: str, alias: str, project: str, *, present: bool
) -> None:
    """Add ``alias`` to (or remove it from) the project's alias inventory on ``model``."""
    if not project:
        return
    with holder_lock(f"model:{model}"):
        try:
            tags = model_tags(client, model)
        except NotFound:
            if present:
                raise
            return  # the model is gone, and its inventory with it
        key, value = ownership.alias_inventory_after(tags, project, alias, present=present)
        if tags.get(key) == value:
            return
        if value is None:
            patch_model_tags(client, model, {}, [key])
        else:
            patch_model_tags(client, model, {key: value}, [])


# --- Vector Search endpoint tags ---------------------------------------------------------


def vs_endpoint_tags(client: WorkspaceClient, name: str) -> dict[str, str]:
    doc = retry.call(
        lambda: client.api_client.do("GET", f"{VS_ENDPOINTS}/{name}"), what=f"reading {name}"
    )
    return _tag_map(doc.get("custom_tags") if isinstance(doc, dict) else None)


def put_vs_endpoint_tags(client: WorkspaceClient, name: str, tags: Mapping[str, str]) -> None:
    """The tags call replaces the endpoint's whole set."""
    body = {"custom_tags": [{"key": k, "value": v} for k, v in sorted(tags.items())]}
    retry.call(
        lambda: client.api_client.do("PATCH", f"{VS_ENDPOINTS}/{name}/tags", body=body),
        what=f"updating the tags of {name}",
    )


def mark_index(
    client: WorkspaceClient, endpoint: str, index: str, project: str, *, present: bool
) -> None:
    """Set (or remove) ``reconciler.index.<index>=<project>`` on the index's endpoint."""
    if not project or not endpoint:
        return
    key = ownership.index_marker_key(index)
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


# --- serving endpoint tags --------------------------------------------------------------


def mark_quota(client: WorkspaceClient, endpoint: str, project: str, *, present: bool) -> None:
    """Set (or remove) ``reconciler.quota=<project>`` on the serving endpoint (a tag patch:
    other tags are untouched)."""
    if not project:
        return
    body: dict[str, Any] = (
        {"add_tags": [{"key": ownership.QUOTA_TAG, "value": project}]}
        if present
        else {"delete_tags": [ownership.QUOTA_TAG]}
    )
    path = f"{SERVING_ENDPOINTS}/{endpoint}/tags"
    try:
        retry.call(
            lambda: client.api_client.do("PATCH", path, body=body),
            what=f"{'marking' if present else 'unmarking'} the quota of {endpoint}",
        )
    except NotFound:
        if present:
            raise
        # The endpoint is gone, and its tags with it.
