"""What a destructive change takes with it, and the plan's answer to that. Pure.

Deleting an asset deletes what lives inside it (``LiveAsset.holds``): a Vector Search endpoint
its indexes, a registered model its aliases, a serving endpoint its quota. A replace deletes
them too, unless the adapter carries them over (a quota's rate limits). A plan may destroy only
what this project owns and accounts for: every held asset must be this project's, and either
deleted by the same plan or declared, in which case a replace of its holder rebuilds it in the
same plan, after the holder. Anything else held, owned by another project or by nobody, refuses
the plan before any write and names each asset with its owner; no flag allows it. (A kind may
say that an unowned asset of its kind goes with its holder: ``KindRules.cascade_unowned``.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from reconciler.kinds.registry import rules_for
from reconciler.model.changes import Action, Change
from reconciler.model.errors import PlanError
from reconciler.model.live import Held, LiveState
from reconciler.model.resources import DesiredState, KindName
from reconciler.project import Target


@dataclass
class _Fate:
    """What one destructive change does to the assets its holder holds."""

    rebuilt: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unowned: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    """Changes of held assets a delete of the holder must wait for."""


def kind_of(address: str) -> KindName:
    return KindName(address.split(".", 1)[0])


def settle_cascades(
    changes: Sequence[Change],
    docs: Mapping[str, dict[str, Any]],
    deps: Mapping[str, Sequence[str]],
    desired: DesiredState,
    live: LiveState,
    target: Target,
) -> list[Change]:
    """``changes`` with what their deletes and replaces take along accounted for: rebuilds
    added (``docs`` and ``deps`` are the declared assets' documents and dependencies), reasons
    naming what goes, deletes ordered after the deletes of what they hold. PlanError when a
    change would destroy what this project does not own."""
    by_address = {c.address: c for c in changes}
    for holder in [c for c in changes if c.destructive]:
        asset = live.assets.get(holder.address)
        if asset is None or not asset.holds:
            continue
        fate = _Fate()
        for held in asset.holds:
            if holder.action is Action.REPLACE and held.kept_on_replace:
                continue
            _judge(held, holder, fate, by_address, docs, deps, desired, target)
        if fate.blocked:
            raise _refusal(holder, fate.blocked, desired)
        by_address[holder.address] = holder.model_copy(
            update={
                "reason": _reason(holder, fate, docs),
                "depends_on": tuple(sorted({*holder.depends_on, *fate.after})),
            }
        )
    return list(by_address.values())


def _judge(
    held: Held,
    holder: Change,
    fate: _Fate,
    by_address: dict[str, Change],
    docs: Mapping[str, dict[str, Any]],
    deps: Mapping[str, Sequence[str]],
    desired: DesiredState,
    target: Target,
) -> None:
    rules = rules_for(kind_of(held.address))
    if held.owner is None and rules.cascade_unowned:
        fate.unowned.append(held.address)
        return
    if held.owner != desired.project:
        owner = f"project {held.owner!r}" if held.owner else "no project"
        fate.blocked.append(f"{held.address} (owned by {owner})")
        return
    current = by_address.get(held.address)
    deleting = holder.action is Action.DELETE
    if current is not None and current.action is Action.DELETE:
        fate.deleted.append(held.address)
        fate.after.extend([held.address] if deleting else [])
        return
    if held.address not in docs:
        fate.blocked.append(
            f"{held.address} (this project's, but it left the manifests and this plan does not"
            " delete it: the target does not prune, or protects it)"
        )
        return
    if current is not None and current.action in (Action.REPLACE, Action.CREATE):
        fate.rebuilt.append(held.address)
        fate.after.extend([held.address] if deleting else [])
        return
    if deleting or any(fnmatchcase(held.address, glob) for glob in target.protected):
        why = "protected on this target" if not deleting else "declared, on an asset deleted"
        fate.blocked.append(f"{held.address} (this project's, {why})")
        return
    holder_rules = rules_for(holder.kind)
    reason = rules.rebuild_reason(
        held.address.split(".", 1)[1],
        docs[held.address],
        f"its {holder_rules.noun} {holder.name} is replaced",
    )
    by_address[held.address] = Change(
        address=held.address,
        kind=rules.kind,
        name=held.address.split(".", 1)[1],
        action=Action.REPLACE,
        diffs=current.diffs if current is not None else (),
        depends_on=tuple(deps.get(held.address, ())),
        reason=reason,
        desired=docs[held.address],
    )
    fate.rebuilt.append(held.address)


def _reason(holder: Change, fate: _Fate, docs: Mapping[str, dict[str, Any]]) -> str:
    parts = [holder.reason or f"{holder.action.value}s {holder.address}"]
    if fate.rebuilt:
        items = []
        for address in fate.rebuilt:
            loss = rules_for(kind_of(address)).loss(docs.get(address) or {})
            items.append(f"{address} ({loss})" if loss else address)
        when = "rebuilt after it" if holder.action is Action.REPLACE else "rebuilt elsewhere"
        parts.append(
            f"what it holds is deleted before it and {when} by this plan: {', '.join(items)}"
        )
    if fate.deleted:
        parts.append(f"it holds {', '.join(fate.deleted)}, deleted before it by this plan")
    if fate.unowned:
        why = rules_for(kind_of(fate.unowned[0])).cascade_unowned
        parts.append(f"with it go {', '.join(fate.unowned)} ({why})")
    return "; ".join(parts)


def _refusal(holder: Change, blocked: list[str], desired: DesiredState) -> PlanError:
    verb = "deleted" if holder.action is Action.DELETE else "replaced"
    return PlanError(
        f"{holder.address} cannot be {verb}: that would also delete what this project does not"
        f" own or account for: {', '.join(blocked)}",
        location=desired.location_of(holder.address),
        hint="no flag allows this, not even --allow-delete: have their owners move or delete"
        " them first, or keep the asset as it is",
    )
