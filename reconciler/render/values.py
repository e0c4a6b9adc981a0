"""Shared by the renderers: markers, value formatting, grouping, the summary line."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from reconciler.model.changes import Action, Change, Plan
from reconciler.model.health import AssetHealth, HealthStatus
from reconciler.model.resources import KindName
from reconciler.model.secrets import mask_secrets

MARKERS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.ADOPT: "<=",
}
NONE = "(none)"
CARRIED = "kept as live (not set in the manifests)"
"""How a carried field reads: a write sends it back unchanged (``Change.carried``)."""
ADOPT_NOTE = (
    "each exists and no project owns it; apply takes it over for this project (writes its"
    " ownership marker, and the diffs shown)"
)
HEALTH_MARKERS = {HealthStatus.DEGRADED: "!", HealthStatus.PROGRESSING: "*"}


def fmt_value(value: Any) -> str:
    if value is None:
        return NONE
    return json.dumps(mask_secrets(value), ensure_ascii=False, separators=(", ", ": "))


def summary_line(plan: Plan) -> str:
    if plan.empty:
        return "No changes."
    s = plan.summary
    adopt = f" {s.adopt} to adopt," if s.adopt else ""
    return (
        f"Plan: {s.create} to create,{adopt} {s.update} to update, {s.replace} to replace,"
        f" {s.delete} to delete."
    )


def health_line(health: tuple[AssetHealth, ...]) -> str:
    """``Health: 2 declared assets are not healthy (1 degraded, 1 progressing).``"""
    degraded = sum(1 for h in health if h.status is HealthStatus.DEGRADED)
    noun = "declared asset is" if len(health) == 1 else "declared assets are"
    return (
        f"Health: {len(health)} {noun} not healthy ({degraded} degraded,"
        f" {len(health) - degraded} progressing)."
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


def sections(plan: Plan) -> tuple[list[Change], list[Change], list[Change]]:
    """The order people read a plan in: destructive changes, adoptions, then the rest."""
    destructive, others = split_destructive(plan)
    adopts = [c for c in others if c.action is Action.ADOPT]
    rest = [c for c in others if c.action is not Action.ADOPT]
    return destructive, adopts, rest
