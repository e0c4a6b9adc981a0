"""The indexes a Vector Search endpoint holds, and who owns each.

Indexes have no tags: the project that owns one marks it on its endpoint,
``reconciler.index.<index>=<project>`` (written by ``vector_index``). Deleting an endpoint takes
every index on it (the index is orphaned: it keeps its endpoint's old id and never serves again),
so a plan that deletes or replaces an endpoint reads them all, and apply checks them again just
before the endpoint goes. An index whose ``endpoint_id`` is not its endpoint's id is an orphan of
an earlier endpoint of that name: not held by this one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.adapters.databricks.reading import translated
from reconciler.adapters.databricks.sdk import WorkspaceClient
from reconciler.adapters.databricks.writing import exists, ignore_missing
from reconciler.kinds.diffing import raw_tags
from reconciler.model.live import Held
from reconciler.model.resources import KindName, address_of
from reconciler.runtime.waits import poll_until

INDEXES = "/api/2.0/vector-search/indexes"
INDEX_TAG_PREFIX = "reconciler.index."


def index_marker_key(index_name: str) -> str:
    return INDEX_TAG_PREFIX + index_name


def indexes_owned(endpoint_tags: Mapping[str, str], project: str) -> list[str]:
    return sorted(
        key[len(INDEX_TAG_PREFIX) :]
        for key, value in endpoint_tags.items()
        if key.startswith(INDEX_TAG_PREFIX) and value == project
    )


def index_owner(endpoint_tags: Mapping[str, str], index_name: str) -> str | None:
    return endpoint_tags.get(index_marker_key(index_name)) or None


def is_orphan(index: Mapping[str, Any], endpoint: Mapping[str, Any] | None) -> bool:
    """Whether the index belongs to an endpoint that no longer exists (deleted, or deleted and
    created again under the same name): it stays OFFLINE for good."""
    if endpoint is None:
        return True
    index_id, endpoint_id = index.get("endpoint_id"), endpoint.get("id")
    return bool(index_id and endpoint_id and index_id != endpoint_id)


def indexes_on(client: WorkspaceClient, endpoint: Mapping[str, Any]) -> list[str]:
    """The indexes on the endpoint (listed by its name), orphans of earlier endpoints left out."""
    name = str(endpoint.get("name"))
    with translated(f"indexes on vector search endpoint {name}"):
        items = [i.as_dict() for i in client.vector_search_indexes.list_indexes(name)]
    return sorted(str(i["name"]) for i in items if i.get("name") and not is_orphan(i, endpoint))


def held_indexes(endpoint: Mapping[str, Any], names: list[str]) -> tuple[Held, ...]:
    tags = raw_tags(endpoint.get("custom_tags"))
    return tuple(
        Held(address_of(KindName.VECTOR_INDEX, name), index_owner(tags, name)) for name in names
    )


def delete_index(client: WorkspaceClient, name: str, address: str) -> None:
    """Delete, then wait until GET no longer finds it."""
    path = f"{INDEXES}/{name}"
    ignore_missing(lambda: client.api_client.do("DELETE", path), what=f"deleting index {name}")
    poll_until(
        lambda: not exists(client, path, f"reading index {name}"),
        bool,
        what=f"waiting for index {name} to be deleted",
        address=address,
    )
