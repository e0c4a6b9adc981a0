"""``plan`` as a library call: load the manifests for a target, read the live state they need,
and plan. ``apply`` and ``drift`` plan the same way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from reconciler.adapters import open_workspace
from reconciler.manifest import SourceTree, load_desired_state
from reconciler.model.changes import Plan
from reconciler.model.live import LiveState, Workspace
from reconciler.model.resources import DesiredState
from reconciler.plan.planner import build_plan
from reconciler.plan.reads import check_capabilities, read_live
from reconciler.project import Project, Target, select_target


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
    with open_workspace(project, name) as ws:
        yield ws
