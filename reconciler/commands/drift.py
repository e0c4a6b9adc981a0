"""``drift`` as a library call: a plan of the target, read from the live side."""

from __future__ import annotations

from reconciler.commands.plan import make_plan
from reconciler.gitops.drift import DriftReport, drift_from_plan
from reconciler.manifest import SourceTree
from reconciler.project import Project


def drift(project: Project, target: str | None, *, source: SourceTree | None = None) -> DriftReport:
    """What differs between the target's live state and the manifests (never writes)."""
    return drift_from_plan(make_plan(project, target, source=source).plan)
