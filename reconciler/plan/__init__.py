"""Planning: read what the manifests need, diff it, order the changes.

``make_plan`` is what ``plan``, ``apply`` and ``drift`` call; ``planner.build_plan`` is the pure
core underneath it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconciler.model.changes import Plan
from reconciler.model.errors import PlanError
from reconciler.model.resources import DesiredState, KindName
from reconciler.project import Project, Target

if TYPE_CHECKING:
    from reconciler.manifest.source import SourceTree
    from reconciler.model.live import LiveState, ReadRequest, Workspace
    from reconciler.plan.resolve import Collector


@dataclass(frozen=True)
class PlanResult:
    plan: Plan
    desired: DesiredState
    live: LiveState
    target_name: str = ""
    target: Target | None = field(default=None)


def make_plan(
    project: Project,
    target_name: str | None,
    *,
    source: SourceTree | None = None,
    workspace: Workspace | None = None,
) -> PlanResult:
    """Load the manifests for the target, read the live state they need, and plan."""
    from reconciler.manifest import load_desired_state
    from reconciler.plan.planner import build_plan
    from reconciler.project import select_target

    name, target = select_target(project, target_name)
    desired = load_desired_state(project, name, source=source)
    with _workspace(project, name, workspace) as ws:
        check_capabilities(desired, ws, name)
        live = read_live(ws, desired, target)
    plan = build_plan(desired, live, target)
    return PlanResult(plan=plan, desired=desired, live=live, target_name=name, target=target)


@contextmanager
def _workspace(project: Project, name: str, given: Workspace | None) -> Iterator[Workspace]:
    if given is not None:
        yield given
        return
    from reconciler.workspace import open_workspace

    with open_workspace(project, name) as ws:
        yield ws


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
    from reconciler.kinds.rules import rules_for
    from reconciler.model.live import ExtraRead, ReadRequest
    from reconciler.plan.resolve import Collector

    collector = Collector(desired, live)
    assets: set[str] = set(desired.resources)
    extra: dict[ExtraRead, list[str]] = {e: [] for e in ExtraRead}
    for resource in desired.resources.values():
        rules = rules_for(resource.kind)
        if rules.is_external(resource):
            continue
        doc = rules.desired_doc(resource, collector)
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
    from reconciler.model.live import LiveState, ReadRequest

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


def build_plan(desired: DesiredState, live: LiveState, target: Target) -> Plan:
    """The pure planner (``reconciler.plan.planner.build_plan``)."""
    from reconciler.plan.planner import build_plan as build

    return build(desired, live, target)


__all__ = ["PlanResult", "build_plan", "make_plan", "read_live", "read_request"]
