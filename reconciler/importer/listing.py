"""Which live assets exist, by kind: the list calls a plan never needs (it reads by name)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors.base import DatabricksError

from reconciler.model.errors import WorkspaceError
from reconciler.model.resources import KindName


def _names(what: str, call: Callable[[], Iterable[Any]], attr: str) -> list[str]:
    try:
        return sorted({str(getattr(item, attr)) for item in call() if getattr(item, attr)})
    except DatabricksError as exc:
        raise WorkspaceError(f"listing {what}: {str(exc).split('. Config:')[0]}") from None


def list_names(client: WorkspaceClient, kind: KindName) -> list[str]:
    """Every name of one kind the identity can see (quotas: every serving endpoint)."""
    if kind is KindName.REGISTERED_MODEL:
        return _names("registered models", client.registered_models.list, "full_name")
    if kind in (KindName.SERVING_ENDPOINT, KindName.QUOTA):
        return _names("serving endpoints", client.serving_endpoints.list, "name")
    if kind is KindName.VECTOR_SEARCH_ENDPOINT:
        return _names(
            "vector search endpoints", client.vector_search_endpoints.list_endpoints, "name"
        )
    if kind is KindName.VECTOR_INDEX:
        names: list[str] = []
        indexes = client.vector_search_indexes
        for endpoint in list_names(client, KindName.VECTOR_SEARCH_ENDPOINT):
            what = f"vector indexes on {endpoint}"
            names += _names(what, functools.partial(indexes.list_indexes, endpoint), "name")
        return sorted(names)
    raise WorkspaceError(f"cannot list {kind.value} assets on their own")
