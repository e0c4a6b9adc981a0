"""What a plan reads: the declared assets, what they require, the aliases and versions they
name, and (with prune) what the project owns. Reads go through the ``Workspace`` port."""

from __future__ import annotations

from reconciler.kinds.registry import rules_for
from reconciler.kinds.resolve import Collector
from reconciler.model.errors import PlanError
from reconciler.model.live import ExtraRead, LiveState, ReadRequest, Workspace
from reconciler.model.resources import DesiredState, KindName
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
    the assets they require, the versions named, and (with prune) what this project owns."""
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
        versions=sorted(collector.versions),
        owned_by=desired.project if target.prune else None,
        owned_kinds=sorted(capabilities) if target.prune else (),
        permissions_for=sorted(extra[ExtraRead.PERMISSIONS]),
        approvals_for=sorted(extra[ExtraRead.APPROVAL]),
    )
    return request, collector


def read_live(workspace: Workspace, desired: DesiredState, target: Target) -> LiveState:
    """Two reads: the assets (which tell what live aliases point to), then the versions that
    only those live aliases name."""
    request, _ = read_request(desired, target, LiveState(), workspace.capabilities)
    live = workspace.read(request)
    _, second = read_request(desired, target, live, workspace.capabilities)
    missing = sorted(second.versions - set(live.versions) - set(request.versions))
    if missing:
        more = workspace.read(ReadRequest(versions=missing))
        live.versions.update(more.versions)
        live.api_calls += more.api_calls
        live.seconds += more.seconds
    return live
