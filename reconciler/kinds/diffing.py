"""Field-level comparison shared by the kinds: managed fields only, tags as maps, secrets hidden.

A manifest that leaves a field unset does not manage it, so comparisons walk the desired document
and look up the live value beside it. Where the API replaces a whole object (served entities,
traffic, tags once set) the kind compares that object in full instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.model.changes import FieldDiff

OWN_TAG_PREFIX = "reconciler."
"""Tags the tool writes itself (ownership, inventory, provenance): never compared."""


def own_tag(key: str) -> bool:
    return key.startswith(OWN_TAG_PREFIX)


def tags_to_dict(tags: Any) -> dict[str, str]:
    """``[{key, value}]`` (the wire shape) or a mapping -> ``{key: value}`` without our tags."""
    out: dict[str, str] = {}
    if isinstance(tags, Mapping):
        items: Iterable[tuple[Any, Any]] = tags.items()
    elif isinstance(tags, list):
        items = ((t.get("key"), t.get("value")) for t in tags if isinstance(t, Mapping))
    else:
        return out
    for key, value in items:
        if key is None or own_tag(str(key)):
            continue
        out[str(key)] = "" if value is None else str(value)
    return dict(sorted(out.items()))


def sorted_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """Tag maps compare whatever order they were written in."""
    return dict(sorted(tags.items()))


def raw_tags(tags: Any) -> dict[str, str]:
    """All tags including ours (used to read ownership markers)."""
    if isinstance(tags, Mapping):
        return {str(k): "" if v is None else str(v) for k, v in tags.items()}
    if isinstance(tags, list):
        return {
            str(t["key"]): "" if t.get("value") is None else str(t.get("value"))
            for t in tags
            if isinstance(t, Mapping) and t.get("key") is not None
        }
    return {}


def diff_tags(desired: Mapping[str, str], live: Mapping[str, str], path: str) -> list[FieldDiff]:
    """One diff per tag key; live tags the manifest does not list are removed (set semantics)."""
    diffs = []
    for key in sorted(set(desired) | set(live)):
        if own_tag(key):
            continue
        before, after = live.get(key), desired.get(key)
        if before != after:
            diffs.append(FieldDiff(path=f"{path}.{key}", before=before, after=after))
    return diffs


def diff_managed(
    desired: Mapping[str, Any],
    live: Mapping[str, Any],
    path: str = "",
    *,
    defaults: Mapping[str, Any] | None = None,
) -> list[FieldDiff]:
    """Compare only what ``desired`` sets; nested mappings recurse, anything else compares whole.

    ``defaults`` gives the value an absent live field has (by dotted path), so that a server
    that omits ``false`` or ``[]`` does not read as a change.
    """
    defaults = defaults or {}
    diffs: list[FieldDiff] = []
    for key, want in desired.items():
        sub = f"{path}.{key}" if path else str(key)
        have = live.get(key, defaults.get(sub))
        if isinstance(want, Mapping) and isinstance(have, Mapping):
            diffs.extend(diff_managed(want, have, sub, defaults=defaults))
        elif want != have:
            diffs.append(FieldDiff(path=sub, before=have, after=want))
    return diffs


def creation_diffs(doc: Mapping[str, Any]) -> list[FieldDiff]:
    """What a create sets, one top-level field per line."""
    return [FieldDiff(path=str(k), before=None, after=v) for k, v in doc.items()]


def as_int(value: Any) -> Any:
    """Versions arrive as ``4`` or ``"4"`` depending on the API; compare them as ints."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def drop_none(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if v is not None}


def field_diff(path: str, before: Any, after: Any) -> FieldDiff:
    return FieldDiff(path=path, before=before, after=after)
