"""Shared by the renderers: markers, value formatting, grouping, the summary line."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from reconciler.model.changes import Action, Change, Plan
from reconciler.model.resources import KindName
from reconciler.model.secrets import mask_secrets

MARKERS = {Action.CREATE: "+", Action.UPDATE: "~", Action.REPLACE: "-/+", Action.DELETE: "-"}
NONE = "(none)"
CARRIED = "kept as live (not set in the manifests)"
"""How a carried field reads: a write sends it back unchanged (``Change.carried``)."""


def fmt_value(value: Any) -> str:
    if value is None:
        return NONE
    return json.dumps(mask_secrets(value), ensure_ascii=False, separators=(", ", ": "))


def summary_line(plan: Plan) -> str:
    if plan.empty:
        return "No changes."
    s = plan.summary
    return (
        f"Plan: {s.create} to create, {s.update} to update, {s.replace} to replace,"
        f" {s.delete} to delete."
    )


def kind_rank(kind: str) -> int:
    kinds = list(KindName)
    try:
        return kinds.index(KindName(kind))
    except ValueError:
        return len(kinds)


def grouped(changes: Iterable[Change]) -> list[tuple[str, list[Change]]]:
    """Changes by kind (kinds in KindName order), execution order kept within a kind."""
    groups: dict[str, list[Change]] = {}
    for change in changes:
        groups.setdefault(change.kind, []).append(change)
    return sorted(groups.items(), key=lambda item: kind_rank(item[0]))


def split_destructive(plan: Plan) -> tuple[list[Change], list[Change]]:
    destructive = [c for c in plan.changes if c.destructive]
    others = [c for c in plan.changes if not c.destructive]
    return destructive, others
