"""Destructive plans are refused as a whole unless the operator allows deletes."""

from __future__ import annotations

import pytest

from reconciler.apply import check_destructive
from reconciler.model.changes import Action, Change, Plan
from reconciler.model.errors import ApplyError
from reconciler.project import Target, TargetType


def ch(kind: str, name: str, action: Action, reason: str | None = None) -> Change:
    return Change(address=f"{kind}.{name}", kind=kind, name=name, action=action, reason=reason)


def plan(*changes: Change) -> Plan:
    return Plan(target="prod", changes=changes)


SANDBOX = Target(type=TargetType.SANDBOX)
PRUNING = Target(type=TargetType.SANDBOX, prune=True)


def test_updates_and_creates_pass() -> None:
    check_destructive(
        plan(ch("serving_endpoint", "ep", Action.UPDATE), ch("quota", "ep", Action.CREATE)),
        SANDBOX,
        allow_delete=False,
    )


def test_replace_of_an_index_is_refused_naming_the_flag_and_the_loss() -> None:
    p = plan(
        ch("serving_endpoint", "ep", Action.UPDATE),
        ch("vector_index", "c.s.idx", Action.REPLACE, "primary_key changes: index rebuilt"),
    )
    with pytest.raises(ApplyError) as info:
        check_destructive(p, SANDBOX, allow_delete=False)
    assert "--allow-delete" in (info.value.hint or "")
    assert "vector_index.c.s.idx: primary_key changes: index rebuilt" in info.value.message
    assert "nothing was applied" in info.value.message
    check_destructive(p, SANDBOX, allow_delete=True)


def test_registered_model_delete_needs_prune_and_allow_delete() -> None:
    p = plan(ch("registered_model", "c.s.m", Action.DELETE))
    with pytest.raises(ApplyError, match="does not prune"):
        check_destructive(p, SANDBOX, allow_delete=True)
    with pytest.raises(ApplyError, match="destructive"):
        check_destructive(p, PRUNING, allow_delete=False)
    check_destructive(p, PRUNING, allow_delete=True)


def test_protected_assets_are_never_destroyed() -> None:
    target = Target(type=TargetType.SANDBOX, prune=True, protected=["serving_endpoint.prod-*"])
    p = plan(ch("serving_endpoint", "prod-chat", Action.DELETE))
    with pytest.raises(ApplyError, match="protected"):
        check_destructive(p, target, allow_delete=True)
