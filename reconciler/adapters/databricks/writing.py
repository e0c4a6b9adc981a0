"""What every write handler of the Databricks adapter shares, and the contract of one kind module.

Every call goes through the retry policy (``reconciler.runtime.retry``); every wait polls without
holding a work slot (``reconciler.runtime.waits``). Writes that merge with live state (AI Gateway,
tags) re-read the asset just before writing, because an earlier change of the same plan may
have changed it since the plan was made; writes to one endpoint never run concurrently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from databricks.sdk.errors import NotFound

from reconciler.adapters.databricks.reading import KindReader, ReadRun
from reconciler.adapters.databricks.sdk import WorkspaceClient
from reconciler.model.changes import Action, Change
from reconciler.model.errors import ApplyError
from reconciler.model.health import Health
from reconciler.model.live import LiveAsset
from reconciler.model.resources import KindName
from reconciler.runtime import retry
from reconciler.runtime.settings import ApplySettings

log = logging.getLogger(__name__)

Doc = dict[str, Any]
Handler = Callable[[WorkspaceClient, Change, "LiveAsset | None", ApplySettings], None]
Pairs = tuple[tuple[str, str], ...]
"""A wire mapping as data: ``(API field, manifest field)`` pairs, read both ways."""


@dataclass(frozen=True)
class KindAdapter:
    """How the Databricks adapter handles one kind: its wire mapping into the spec shape, the
    write handler, and (for ``import``) how to list every name."""

    kind: KindName
    normalize: Callable[[Mapping[str, Any]], dict[str, Any]]
    """A live API object (``as_dict()`` shape) in the kind's spec document shape."""
    apply: Handler
    """Execute one change and return once the asset has settled."""
    list_names: Callable[[WorkspaceClient], list[str]] | None = None
    """Every name of this kind the identity can see; None when it comes with another kind."""
    unmodelled: Callable[[Mapping[str, Any]], list[str]] | None = None
    """The live API object's writable fields the manifests cannot express, as paths
    (``LiveAsset.unmodelled``); None when the kind's writes replace no object whole."""
    health: Callable[[Mapping[str, Any]], Health | None] | None = None
    """Whether a live API object works (None: healthy); None for kinds without a state."""


Reader = Callable[[ReadRun], KindReader]


def from_api(raw: Mapping[str, Any], pairs: Pairs) -> Doc:
    """The manifest fields of ``pairs`` the API object sets."""
    return {ours: raw[api] for api, ours in pairs if raw.get(api) is not None}


def to_api(doc: Mapping[str, Any], pairs: Pairs) -> Doc:
    """The API fields of ``pairs`` the manifest document sets."""
    return {api: doc[ours] for api, ours in pairs if doc.get(ours) is not None}


def desired_of(change: Change) -> dict[str, Any]:
    if change.desired is None:
        raise ApplyError(
            f"the plan gives no desired document for this {change.action.value}",
            address=change.address,
        )
    return dict(change.desired)


def touches(change: Change, *prefixes: str) -> bool:
    """Whether the change's diffs touch a field under one of ``prefixes`` (all, when unknown).
    An adopt's diffs are always known: one without diffs touches nothing (only the marker)."""
    if change.action is Action.UPDATE and not change.diffs:
        return True
    if change.action not in (Action.UPDATE, Action.ADOPT):
        return True
    return any(d.path == p or d.path.startswith(p + ".") for d in change.diffs for p in prefixes)


def ignore_missing(fn: Callable[[], object], *, what: str) -> None:
    """Deletes are idempotent: an asset already gone is what was asked for."""
    try:
        retry.call(fn, what=what)
    except NotFound:
        log.info("%s: already gone", what)


def touched_keys(change: Change, field: str) -> set[str] | None:
    """The keys of map ``field`` (``tags``) the change's diffs name; None when the change writes
    the whole map (not an update or adopt, or a diff of the map itself)."""
    if change.action is Action.UPDATE and not change.diffs:
        return None
    if change.action not in (Action.UPDATE, Action.ADOPT):
        return None
    keys: set[str] = set()
    for diff in change.diffs:
        if diff.path == field:
            return None
        if diff.path.startswith(field + "."):
            keys.add(diff.path[len(field) + 1 :])
    return keys


def tag_changes(
    desired: Mapping[str, str] | None,
    live: Mapping[str, str],
    provenance: Mapping[str, str],
    *,
    only: Collection[str] | None = None,
) -> tuple[dict[str, str], list[str]]:
    """Tags to add or overwrite, and keys to delete, to go from ``live`` to ``desired``.

    ``desired`` None means the manifest does not manage tags: others' tags stay. ``only`` limits
    the keys written to those (the keys the plan's diffs name, so a key the target ignores is
    never added, changed or removed). Our own (``reconciler.*``) tags are never deleted here,
    only refreshed.
    """
    add = {k: v for k, v in provenance.items() if live.get(k) != v}
    remove: list[str] = []
    if desired is not None:
        keys = {*desired, *live} if only is None else set(only)
        for key in sorted(keys):
            if key.startswith("reconciler."):
                continue
            if key in desired and live.get(key) != desired[key]:
                add[key] = desired[key]
            elif key not in desired and key in live:
                remove.append(key)
    return add, remove


def get(client: WorkspaceClient, path: str, what: str) -> Doc:
    """One GET through the retry policy (writes re-read what they merge with)."""
    doc = retry.call(lambda: client.api_client.do("GET", path), what=what)
    assert isinstance(doc, dict)
    return doc


def exists(client: WorkspaceClient, path: str, what: str) -> bool:
    try:
        get(client, path, what)
    except NotFound:
        return False
    return True
