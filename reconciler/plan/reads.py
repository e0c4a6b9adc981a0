"""What a plan reads: the declared assets, what they require, the aliases and versions they
name, and (with prune) what the project owns. Reads go through the ``Workspace`` port."""

from __future__ import annotations

import dataclasses

from reconciler.kinds.registry import rules_for
from reconciler.kinds.resolve import Collector
from reconciler.model.errors import PlanError
from reconciler.model.live import ExtraRead, LiveState, ReadRequest, Workspace
from reconciler.model.resources import DesiredState, KindName
from reconciler.plan.planner import drop_ignored
from reconciler.project import Target


def check_capabilities(desired: DesiredState, workspace: Workspace, target_name: str) -> None:
    for address in sorted(desired.resources):
        resource = desired.resources[address]
        if resource.kind not in workspace.capabilities:
            supported = ", ".join(sorted(k.value for k in workspace.capabilities))
            raise PlanError(
                f"target {target_name!r} ({workspace.name}) cannot hold {resource.kind.value}"
                f" assets such as {resource.name}; it supports {supported}",
                location=desired.location_of(address),
                hint="use a Databricks target for these kinds, or move them to another manifest",
            )


def read_request(
    desired: DesiredState, target: Target, live: LiveState, capabilities: frozenset[KindName]
) -> tuple[ReadRequest, Collector]:
    """Everything the planner will look at: declared assets, the aliases served entities name,
    the assets they require, the optional reads their manifests ask for, and (with prune) what
    this project owns. The versions to read are the collector's (``read_live``)."""
    collector = Collector(desired, live)
    assets: set[str] = set(desired.resources)
    extra: dict[ExtraRead, list[str]] = {e: [] for e in ExtraRead}
    for resource in desired.resources.values():
        rules = rules_for(resource.kind)
        if rules.is_external(resource):
            continue
        doc = rules.desired(resource, collector)
        assets.update(rules.requires(resource.name, doc))
        for read in rules.extra_reads(doc):
            extra[read].append(resource.name)
    assets.update(collector.aliases)
    pairs = sorted((KindName(a.split(".", 1)[0]), a.split(".", 1)[1]) for a in assets)
    request = ReadRequest(
        assets=[p for p in pairs if p[0] in capabilities],
        owned_by=desired.project if target.prune else None,
        owned_kinds=sorted(capabilities) if target.prune else (),
        extra={read: tuple(sorted(names)) for read, names in extra.items() if names},
        optimizations=sorted(collector.optimizations),
    )
    return request, collector


def read_live(workspace: Workspace, desired: DesiredState, target: Target) -> LiveState:
    """The assets (which tell what live aliases point to and what endpoints serve), then, only
    when there are any, the model versions the plan moves something to, and what the assets the
    plan may delete or replace hold. A version an alias or a served entity already has is never
    read: nothing changes there, so its status does not matter."""
    request, _ = read_request(desired, target, LiveState(), workspace.capabilities)
    live = workspace.read(request)
    _, second = read_request(desired, target, live, workspace.capabilities)
    missing = sorted(second.versions - set(live.versions))
    unread = sorted(second.optimizations - set(request.optimizations))
    if missing or unread:
        _merge(live, workspace.read(ReadRequest(versions=missing, optimizations=unread)))
    destroyable = may_destroy(desired, target, live, second)
    if destroyable:
        held = workspace.read(ReadRequest(holds_of=destroyable))
        for address, asset in held.assets.items():
            if address in live.assets and asset.holds:
                live.assets[address] = dataclasses.replace(live.assets[address], holds=asset.holds)
        _merge(live, held)
    return live


def _merge(live: LiveState, more: LiveState) -> None:
    live.versions.update(more.versions)
    live.optimizations.update(more.optimizations)
    live.api_calls += more.api_calls
    live.throttled += more.throttled
    live.seconds += more.seconds


def may_destroy(
    desired: DesiredState, target: Target, live: LiveState, ctx: Collector
) -> list[tuple[KindName, str]]:
    """Live assets the plan may delete (prune: this project's, no longer declared) or replace
    (an immutable field differs, or it must be rebuilt): what they hold is read for them."""
    found = []
    for address, asset in live.assets.items():
        resource = desired.resources.get(address)
        if resource is None:
            if target.prune and asset.owner == desired.project:
                found.append((asset.kind, asset.name))
            continue
        rules = rules_for(resource.kind)
        if rules.is_external(resource):
            continue
        diffs = rules.field_diffs(rules.desired(resource, ctx), asset.doc, desired.project)
        if asset.rebuild or rules.needs_replace(drop_ignored(address, diffs, target.ignore)):
            found.append((asset.kind, asset.name))
    return sorted(found)
