"""How the tool marks what a project owns, so prune can find it and never touches the rest.

Where the API has tags the asset carries ``reconciler.project=<project>`` itself (serving
endpoints, Vector Search endpoints, registered models through the UC securable-tags route).
Kinds without tags get an inventory record on the nearest asset that has tags (each kind module
holds its own record): an alias in the ``reconciler.aliases.<project>`` inventory of its model
(``registered_model``), an index as ``reconciler.index.<index>=<project>`` on its Vector Search
endpoint (``vector_index``), a quota as ``reconciler.quota=<project>`` on its serving endpoint
(``quota``: quotas are often set on endpoints nobody here owns).

Apply writes these markers when it creates or changes an asset and removes them when it deletes
one; the read side only interprets them. Order makes a crash harmless. A marker is written *in
the create call* where the API takes tags there (serving endpoints, registered models) or
*before* the asset (a crash in between leaves a marker naming nothing: the read side only
interprets markers of assets that exist, and the re-run creates the asset), and removed *after*
it (a crash in between leaves the asset marked, so the re-run plans its delete again). The
other order could leave a live asset unmarked, which prune would never find. A Vector Search
endpoint takes no tags at create and gets them only once it exists: an intent record written
before the create covers it until then (``intents``).

Inventories are read-modify-write of one tag (alias inventory) or of the whole tag set (Vector
Search endpoints, whose tags call replaces the set), so writes to one holder take a lock:
changes of one apply run in threads of one process, and the target lock keeps other applies out.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from reconciler.model.live import OWNER_TAG

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def holder_lock(key: str) -> threading.Lock:
    """One lock per tag holder (``model:<name>``, ``vs:<name>``) for this process."""
    with _locks_guard:
        return _locks.setdefault(key.lower(), threading.Lock())


def tag_map(tags: Any) -> dict[str, str]:
    """``[{key, value}]`` (the wire shape) as a mapping, our own tags included."""
    return {str(t["key"]): str(t.get("value") or "") for t in tags or [] if t.get("key")}


def wire_tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]


def owner_of(tags: Mapping[str, str]) -> str | None:
    return tags.get(OWNER_TAG) or None
