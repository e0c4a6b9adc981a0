"""Fields apply keeps at their live values, in the document it writes.

A target's ``ignore`` rules drop field diffs from the plan; the document apply writes must then
hold the live value at each of those fields, or a write that sends a whole object (a serving
config, a tag set, a rate limit list) would put the manifest's value back where the plan showed
nothing. ``keep_live`` takes each ignored diff back out of the document: the field gets the
diff's ``before`` (the live value), or leaves the document where it is absent live.

Diff paths name list items by their key (``served_entities.champion.version``,
``rate_limits.user/ann@example.com.calls_per_minute``) and map keys may hold dots (tag keys), so a
path is resolved against the keys the documents hold, the longest first.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from reconciler.model.changes import FieldDiff

KeyOf = Callable[[Mapping[str, Any]], str]
"""How the items of a list are named in diff paths (a served entity by its ``name``)."""


def keep_live(
    write: Mapping[str, Any],
    live: Mapping[str, Any],
    ignored: Sequence[FieldDiff],
    keyed: Mapping[str, KeyOf],
) -> dict[str, Any]:
    """``write`` with the field of each ``ignored`` diff set back to its live value.

    ``keyed`` gives, by document path (``served_entities``), how list items are named in paths.
    """
    out = copy.deepcopy(dict(write))
    for diff in ignored:
        _set(out, live, diff.path, diff.before, keyed, "")
    return out


def _match(path: str, keys: Sequence[str]) -> tuple[str, str]:
    """The key ``path`` starts with (the longest), and what follows it; the whole path is the
    key when no key matches (a field the documents do not hold yet)."""
    for key in sorted(keys, key=len, reverse=True):
        if path == key:
            return key, ""
        if path.startswith(key + "."):
            return key, path[len(key) + 1 :]
    return path, ""


def _set(
    node: dict[str, Any],
    live: Any,
    path: str,
    value: Any,
    keyed: Mapping[str, KeyOf],
    at: str,
) -> None:
    live_map = live if isinstance(live, Mapping) else {}
    key, rest = _match(path, [str(k) for k in {*node, *live_map}])
    here = f"{at}.{key}" if at else key
    if not rest:
        if value is None:
            node.pop(key, None)
        else:
            node[key] = copy.deepcopy(value)
        return
    if here in keyed:
        _set_item(node, key, live_map.get(key), rest, value, keyed, here)
        return
    child = node.get(key)
    if not isinstance(child, dict):
        if value is None:
            return
        child = {}
        node[key] = child
    _set(child, live_map.get(key), rest, value, keyed, here)


def _set_item(
    node: dict[str, Any],
    key: str,
    live: Any,
    path: str,
    value: Any,
    keyed: Mapping[str, KeyOf],
    here: str,
) -> None:
    """Set ``path`` (``<item key>[.<field>]``) inside the keyed list ``node[key]``."""
    key_of = keyed[here]
    items: list[Any] = list(node.get(key) or [])
    live_items = [i for i in live or [] if isinstance(i, Mapping)]
    names = [key_of(i) for i in [*items, *live_items] if isinstance(i, Mapping)]
    name, rest = _match(path, names)
    index = next(
        (n for n, i in enumerate(items) if isinstance(i, Mapping) and key_of(i) == name), None
    )
    if not rest:
        if value is None:
            if index is not None:
                items.pop(index)
        elif index is not None:
            items[index] = copy.deepcopy(value)
        else:
            items.append(copy.deepcopy(value))
        node[key] = items
        return
    live_item = next((i for i in live_items if key_of(i) == name), None)
    if index is None:
        if value is None or live_item is None:
            return
        items.append(copy.deepcopy(dict(live_item)))
        index = len(items) - 1
    item = dict(items[index])
    _set(item, live_item, rest, value, keyed, f"{here}.*")
    items[index] = item
    node[key] = items
