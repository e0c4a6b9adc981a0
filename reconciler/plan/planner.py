"""The planner: desired state + live state + target -> an ordered Plan. Pure; never calls an API.

Creates and updates come from the manifests; an immutable field that differs turns an update
into a replace with the reason, and so does a live asset that can only be rebuilt (an orphaned
index). A declared asset that exists and that no project marked as its own is an ``adopt`` (its
diffs, then the marker), never a silent update; one another project marked is an error.
Deletes are planned only for assets that left the manifests, on targets with ``prune: true``,
that this project marked as its own and that no ``protected`` glob covers. What deletes and
replaces take with them is settled by ``reconciler.plan.cascade``. The target's ``ignore``
rules drop field diffs others are allowed to change. Declared assets that exist and are not
healthy are listed beside the changes (``Plan.health``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

from reconciler.kinds.registry import rules_for
from reconciler.kinds.resolve import Resolver
from reconciler.model.changes import Action, Change, FieldDiff, Plan, summarize
from reconciler.model.errors import PlanError
from reconciler.model.health import AssetHealth
from reconciler.model.live import OWNER_TAG, LiveAsset, LiveState
from reconciler.model.resources import DesiredState, Resource
from reconciler.model.secrets import mask_secrets, masked
from reconciler.plan.cascade import settle_cascades
from reconciler.plan.graph import order_changes
from reconciler.project import IgnoreRule, Target


def build_plan(desired: DesiredState, live: LiveState, target: Target) -> Plan:
    resolver = Resolver(desired, live)
    declared = frozenset(desired.resources)
    changes: list[Change] = []
    graph: dict[str, list[str]] = {}
    docs: dict[str, dict[str, Any]] = {}
    used_by: dict[str, str] = {}
    for address in sorted(desired.resources):
        resource = desired.resources[address]
        change, deps, refs, doc = _plan_resource(
            resource, desired, live, target, resolver, declared
        )
        graph[address] = deps
        if doc is not None:
            docs[address] = doc
        for ref in refs:
            used_by.setdefault(ref, address)
        if change is not None:
            changes.append(change)
    if target.prune:
        changes.extend(_plan_deletes(desired, live, target, used_by))
    changes = settle_cascades(changes, docs, graph, desired, live, target)
    ordered = order_changes(changes, graph)
    return Plan(
        project=desired.project,
        target=desired.target,
        changes=ordered,
        summary=summarize(ordered),
        fingerprint=live.fingerprint(),
        manifests=desired.manifests,
        health=health_of(desired, live),
    )


def health_of(desired: DesiredState, live: LiveState) -> tuple[AssetHealth, ...]:
    """Declared assets (external ones included) that exist and are not healthy, by address."""
    out = []
    for address in sorted(desired.resources):
        asset = live.assets.get(address)
        if asset is None or asset.health is None:
            continue
        out.append(
            AssetHealth(
                address=address,
                kind=asset.kind,
                name=asset.name,
                status=asset.health.status,
                message=str(mask_secrets(asset.health.message)),
            )
        )
    return tuple(out)


def _plan_resource(
    resource: Resource,
    desired: DesiredState,
    live: LiveState,
    target: Target,
    resolver: Resolver,
    declared: frozenset[str],
) -> tuple[Change | None, list[str], list[str], dict[str, Any] | None]:
    """The change for one declared asset (None when it matches), the declared assets it
    depends on, every asset it uses (declared or live: those must not be pruned), and its
    desired document (None for an external asset)."""
    rules = rules_for(resource.kind)
    asset = live.assets.get(resource.address)
    if rules.is_external(resource):
        if asset is None:
            raise PlanError(
                f"{resource.address} is declared external (managed elsewhere) but does not exist",
                location=desired.location_of(resource.address),
                hint="create it outside this project, or drop 'external: true' to manage it here",
            )
        return None, [], [], None
    doc = rules.desired(resource, resolver)
    deps = rules.dependencies(resource.name, doc, declared)
    refs = [
        *rules.dependencies(resource.name, doc, live.assets.keys()),
        *rules.requires(resource.name, doc),
    ]
    _check_owner(resource, asset, desired)
    if asset is None:
        for needed in rules.requires(resource.name, doc):
            if needed not in declared and needed not in live.assets:
                raise PlanError(
                    f"{resource.address} needs {needed}, which does not exist and no manifest"
                    " declares it",
                    location=desired.location_of(resource.address),
                    hint="declare it, or fix the name",
                )
        created = rules.creation_diffs(doc)
        change = Change(
            address=resource.address,
            kind=resource.kind,
            name=resource.name,
            action=Action.CREATE,
            diffs=tuple(masked(d) for d in created),
            depends_on=tuple(deps),
            reason=rules.caution(doc, created, resolver),
            desired=doc,
        )
        return change, deps, refs, doc
    every = rules.field_diffs(doc, asset.doc, desired.project)
    found = drop_ignored(resource.address, every, target.ignore)
    # Created by an apply that stopped before the marker: this plan writes it.
    unmarked = asset.owner == desired.project and not asset.marked
    adopting = asset.owner is None
    if not found and not unmarked and not adopting and asset.rebuild is None:
        return None, deps, refs, doc
    if len(found) < len(every):
        doc = _keep_ignored(resource, doc, asset, every, found, desired)
    if unmarked:
        found.append(FieldDiff(path=f"tags.{OWNER_TAG}", before=None, after=desired.project))
    immutable = rules.needs_replace(found)
    action, reason = (Action.ADOPT if adopting else Action.UPDATE), None
    if adopting and immutable:
        # (An orphaned asset, ``rebuild``, is dead whoever owned it: it is replaced below.)
        raise PlanError(
            f"{resource.address} exists and no project owns it; adopting it would replace it"
            f" ({', '.join(sorted({d.path for d in immutable}))} cannot change in place), and"
            " what nobody owns is never replaced",
            location=desired.location_of(resource.address, immutable[0].path),
            hint="make the manifest match the live asset ('reconciler import' writes it),"
            " apply to adopt it, then change it in a later plan",
        )
    if immutable or asset.rebuild is not None:
        if is_protected(resource.address, target):
            fields = ", ".join(sorted({d.path for d in immutable}))
            why = (
                f"{fields} cannot change in place and would need a replace"
                if immutable
                else f"it must be rebuilt ({asset.rebuild})"
            )
            raise PlanError(
                f"{resource.address} is protected, but {why}",
                location=desired.location_of(
                    resource.address, immutable[0].path if immutable else ""
                ),
                hint="revert the change, or remove the asset from the target's protected list",
            )
        action = Action.REPLACE
        reason = (
            rules.replace_reason(resource.name, immutable)
            if immutable
            else rules.rebuild_reason(resource.name, doc, str(asset.rebuild))
        )
    caution = rules.caution(doc, found, resolver)
    if caution:
        reason = f"{reason}; {caution}" if reason else caution
    change = Change(
        address=resource.address,
        kind=resource.kind,
        name=resource.name,
        action=action,
        diffs=tuple(masked(d) for d in found),
        depends_on=tuple(deps),
        reason=reason,
        carried=tuple(rules.carried(doc, asset, found, action)),
        desired=doc,
    )
    return change, deps, refs, doc


def _keep_ignored(
    resource: Resource,
    doc: dict[str, Any],
    asset: LiveAsset,
    every: Sequence[FieldDiff],
    shown: Sequence[FieldDiff],
    desired: DesiredState,
) -> dict[str, Any]:
    """The document apply writes: ``doc`` with each ignored field at its live value.

    Checked here, so apply can trust it: compared with live it must differ in exactly the
    diffs the plan shows, and the kind must be able to send it.
    """
    rules = rules_for(resource.kind)
    ignored = [d for d in every if d not in shown]
    paths = ", ".join(sorted({d.path for d in ignored}))
    write = rules.keep_live(doc, asset.doc, ignored)
    after = rules.field_diffs(write, asset.doc, desired.project)
    if sorted(map(_key, after)) != sorted(map(_key, shown)):
        left = sorted({d.path for d in after} - {d.path for d in shown}) or [paths]
        raise PlanError(
            f"{resource.address}: the target ignores {paths}, but apply cannot keep"
            f" {', '.join(left)} at the live value in what it writes",
            location=desired.location_of(resource.address),
            hint="drop the ignore rule for this asset, or set the manifest to the live value",
        )
    problem = rules.write_problem(write)
    if problem is not None:
        raise PlanError(
            f"{resource.address}: the target ignores {paths}, so apply would keep the live"
            f" value there, but {problem}",
            location=desired.location_of(resource.address),
            hint="remove that ignore rule for this asset, or change the live value first so"
            " it fits the manifest",
        )
    return write


def _key(diff: FieldDiff) -> tuple[str, str, str]:
    return diff.path, repr(diff.before), repr(diff.after)


def _check_owner(resource: Resource, asset: LiveAsset | None, desired: DesiredState) -> None:
    if asset is None or asset.owner is None or asset.owner == desired.project:
        return
    raise PlanError(
        f"{resource.address} is owned by project {asset.owner!r}; two projects cannot manage"
        " one asset",
        location=desired.location_of(resource.address),
        hint=f"remove it from this project, or from {asset.owner!r} first",
    )


def _plan_deletes(
    desired: DesiredState, live: LiveState, target: Target, used_by: Mapping[str, str]
) -> list[Change]:
    owned = {
        a: asset
        for a, asset in live.assets.items()
        if a not in desired.resources
        and asset.owner == desired.project
        and not is_protected(a, target)
    }
    for address in sorted(owned):
        if address in used_by:
            user = used_by[address]
            raise PlanError(
                f"{address} left the manifests, but {user} still uses it; pruning it would"
                " break that asset",
                location=desired.location_of(user),
                hint=f"declare {address} again, or change {user} to stop using it",
            )
    # A delete runs after the deletes of what uses it (an index before its endpoint).
    users: dict[str, set[str]] = {a: set() for a in owned}
    for address, asset in owned.items():
        for dep in rules_for(asset.kind).dependencies(asset.name, asset.doc, set(owned)):
            users[dep].add(address)
    changes = []
    for address in sorted(owned):
        asset = owned[address]
        rules = rules_for(asset.kind)
        changes.append(
            Change(
                address=address,
                kind=asset.kind,
                name=asset.name,
                action=Action.DELETE,
                diffs=tuple(masked(FieldDiff(path=k, before=v)) for k, v in asset.doc.items()),
                depends_on=tuple(sorted(users[address])),
                reason=rules.delete_reason(asset.name, asset.raw),
            )
        )
    return changes


def is_protected(address: str, target: Target) -> bool:
    return any(fnmatchcase(address, glob) for glob in target.protected)


def _field_matches(path: str, field: str) -> bool:
    return path == field or path.startswith(field + ".") or fnmatchcase(path, field)


def drop_ignored(
    address: str, diffs: Sequence[FieldDiff], rules: Iterable[IgnoreRule]
) -> list[FieldDiff]:
    """Diffs whose path an ``ignore`` rule of the target covers for this asset are dropped."""
    fields = [f for r in rules if fnmatchcase(address, r.asset) for f in r.fields]
    return [d for d in diffs if not any(_field_matches(d.path, f) for f in fields)]
