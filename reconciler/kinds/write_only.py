"""Fields the API accepts but never returns (``write_only`` rules), compared only when returned.

A GET that never carries a field cannot say whether it changed: a plan comparing it would show
a change after every apply (the serving ``budget_policy_id`` read as a replace of a production
endpoint on every run). So a write-only field is left out of the comparison wherever the live
object lacks it, and compared like any other field wherever it has it: the plan after an apply
is empty whether or not the API echoes it (converging both ways), and an echoed value that
differs is still seen.

Patterns are dotted paths whose parts are globs: ``*`` is any one key or every item of a list
(items pair with their live counterpart by ``name``, else by position), ``**`` any number of
parts, and a part like ``*_plaintext`` any key ending so
(``served_entities.*.external_model.**.*_plaintext``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any


def matches(path: str, patterns: Iterable[str]) -> bool:
    """``path`` (or a path above it) is one of the write-only ``patterns``; list items may be
    named by their ``name`` in ``path`` (``served_entities.champion.burst_scaling_enabled``)."""
    parts = path.split(".")
    return any(_match(parts, pattern.split(".")) for pattern in patterns)


def _match(parts: list[str], pattern: list[str]) -> bool:
    if not pattern:
        return True  # the path is below a write-only field
    if not parts:
        return False
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return _match(parts, rest) or _match(parts[1:], pattern)
    return fnmatchcase(parts[0], head) and _match(parts[1:], rest)


def without_unreturned(
    desired: Mapping[str, Any], live: Mapping[str, Any], patterns: Iterable[str]
) -> dict[str, Any]:
    """``desired`` without the write-only fields the live object lacks (where the live object
    has their parent: a new list item or block is compared, and shown, whole)."""
    out: Any = dict(desired)
    for pattern in patterns:
        out = _strip(out, live, pattern.split("."))
    assert isinstance(out, dict)
    return out


def _strip(want: Any, have: Any, pattern: list[str]) -> Any:
    if not pattern or have is None:
        return want
    head, rest = pattern[0], pattern[1:]
    if isinstance(want, list):
        if head not in ("*", "**") or not isinstance(have, list):
            return want
        return [
            _strip(item, _counterpart(item, index, have), rest if head == "*" else pattern)
            for index, item in enumerate(want)
        ]
    if not isinstance(want, Mapping) or not isinstance(have, Mapping):
        return want
    out = dict(want)
    if head == "**":
        out = _strip(out, have, rest)
        if not isinstance(out, Mapping):
            return out
        return {k: _strip(v, have.get(k), pattern) for k, v in out.items()}
    for key in list(out):
        if not fnmatchcase(str(key), head):
            continue
        if not rest:
            if have.get(key) is None:
                del out[key]
        else:
            out[key] = _strip(out[key], have.get(key), rest)
    return out


def _counterpart(item: Any, index: int, have: list[Any]) -> Any:
    if isinstance(item, Mapping) and item.get("name") is not None:
        return next(
            (h for h in have if isinstance(h, Mapping) and h.get("name") == item["name"]), None
        )
    return have[index] if index < len(have) else None
