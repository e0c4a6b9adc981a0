"""Refuse destructive plans before any write unless the operator said so."""

from __future__ import annotations

from fnmatch import fnmatchcase

from reconciler.kinds.registry import rules_for
from reconciler.model.changes import Action, Change, Plan
from reconciler.model.errors import ApplyError
from reconciler.project import Target


def loss_of(change: Change) -> str:
    """What a destructive change loses, in words."""
    if change.reason:
        return change.reason
    if change.action is Action.REPLACE:
        return "deleted and created again; what lives only in the asset is lost"
    return "deleted"


def check_destructive(plan: Plan, target: Target, *, allow_delete: bool) -> None:
    """Raise when the plan holds a change that destroys something and the flags don't allow it.

    The check is for the plan as a whole: nothing is applied when one change is refused.
    Protected addresses are never deleted or replaced; kinds whose delete takes what no apply
    brings back (``delete_needs_prune``: a registered model's versions) are deleted only when
    the target prunes and ``--allow-delete`` is given.
    """
    destructive = plan.destructive
    if not destructive:
        return
    protected = [c for c in destructive if any(fnmatchcase(c.address, g) for g in target.protected)]
    if protected:
        names = ", ".join(c.address for c in protected)
        raise ApplyError(
            f"the plan would {protected[0].action.value} protected assets: {names}",
            hint="remove them from the target's 'protected' list first if this is intended",
        )
    if not target.prune:
        for change in destructive:
            rules = rules_for(change.kind)
            if change.action is not Action.DELETE or rules.delete_needs_prune is None:
                continue
            held = [c for c in destructive if c.action is Action.DELETE and c.kind is change.kind]
            raise ApplyError(
                f"the plan deletes {rules.noun}s but the target does not prune: "
                + ", ".join(c.address for c in held),
                hint=rules.delete_needs_prune,
            )
    if allow_delete:
        return
    lines = "\n".join(f"  {c.action.value:<8} {c.address}: {loss_of(c)}" for c in destructive)
    raise ApplyError(
        f"the plan holds {len(destructive)} destructive change(s); nothing was applied:\n{lines}",
        hint="review what will be lost, then re-run with --allow-delete",
    )
