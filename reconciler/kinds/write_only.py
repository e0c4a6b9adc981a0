"""Fields the API accepts but never returns (``write_only`` rules): sent, never compared.

A GET that never carries a field cannot say whether it changed: a plan comparing it would show
a change after every apply (the serving ``budget_policy_id`` read as a replace of a production
endpoint on every run). So a write-only field is taken out of both sides before comparing,
wherever it sits (also inside a value compared whole, such as an external model's provider
block): the plan after an apply is empty whether or not the API echoes it, and an echo that
differs (a masked credential, a policy set elsewhere) never turns into an update or a replace.
The field is still in the document apply sends, and a create shows it.

Patterns are dotted paths whose parts are globs: ``*`` is any one key or every item of a list,
``**`` any number of parts, and a part like ``*_plaintext`` any key ending so
(``served_entities.*.external_model.**.*_plaintext``). Diff paths name list items by their
``name`` (``served_entities.champion.burst_scaling_enabled``), which ``*`` matches too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any


def matches(path: str, patterns: Iterable[str]) -> bool:
    """``path`` is one of the write-only ``patterns`` or below one."""
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


def without_write_only(doc: Mapping[str, Any], patterns: Iterable[str]) -> dict[str, Any]:
    """``doc`` without the fields the ``patterns`` name, wherever they are."""
    out: Any = dict(doc)
    for pattern in patterns:
        out = _strip(out, pattern.split("."))
    assert isinstance(out, dict)
    return out


def _strip(value: Any, pattern: list[str]) -> Any:
    if not pattern:
        return value
    head, rest = pattern[0], pattern[1:]
    if isinstance(value, list):
        if head == "*":
            return [_strip(item, rest) for item in value]
        if head == "**":
            return [_strip(item, pattern) for item in value]
        return value
    if not isinstance(value, Mapping):
        return value
    if head == "**":
        shallow = _strip(value, rest)
        if not isinstance(shallow, Mapping):
            return shallow
        return {k: _strip(v, pattern) for k, v in shallow.items()}
    out = {}
    for key, item in value.items():
        if not fnmatchcase(str(key), head):
            out[key] = item
        elif rest:
            out[key] = _strip(item, rest)
    return out
