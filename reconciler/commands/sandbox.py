"""The sandbox commands' library side: where a project's sandbox keeps its state, and which
model versions the manifests name, so ``reconciler sandbox seed`` can register them.

Model versions come from training pipelines, never from the reconciler; in the sandbox,
``seed`` plays that pipeline for the versions the manifests name.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.kinds.registry import rules_for
from reconciler.kinds.resolve import Collector
from reconciler.manifest.project_file import sandbox_state_path
from reconciler.model.errors import ReconcilerError
from reconciler.model.live import LiveState
from reconciler.model.resources import DesiredState
from reconciler.project import SANDBOX_STATE, Project, Target, TargetType

if TYPE_CHECKING:
    from reconciler.adapters.mlflow.versions import MlflowVersions

__all__ = [
    "SANDBOX_STATE",
    "mlflow_versions",
    "seed_mlflow",
    "state_dir_for",
    "versions_needed",
]


def state_dir_for(project: Project, target: Target | None = None) -> Path:
    """``<root>/.reconciler/sandbox``, or the sandbox target's ``state_dir`` (root-relative,
    checked to stay inside the project)."""
    if target is not None and target.type is TargetType.SANDBOX:
        for name, declared in project.targets.items():
            if declared is target:
                return sandbox_state_path(project, name)
    return project.root / SANDBOX_STATE


def versions_needed(desired: DesiredState) -> dict[str, int]:
    """Model full name -> the highest version the manifests name: the versions aliases set,
    and those served entities name directly or through a declared alias (the lookups the
    planner makes, recorded against an empty workspace)."""
    collector = Collector(desired, LiveState())
    for resource in desired.resources.values():
        rules = rules_for(resource.kind)
        if not rules.is_external(resource):
            rules.desired(resource, collector)
    needed: dict[str, int] = {}
    for model, version in collector.versions:
        needed[model] = max(needed.get(model, 0), version)
    return dict(sorted(needed.items()))


def mlflow_versions(
    project: Project, name: str, target: Target, state: Path | None = None
) -> MlflowVersions:
    """Where ``seed`` and ``register-version`` register versions for an ``mlflow`` target:
    its own registry (its host checked against the allowlist, as for plan)."""
    if state is not None:
        raise ReconcilerError(
            f"target {name!r} is an MLflow registry: --state is for the sandbox",
            hint="drop --state, or pick a sandbox target with -t",
        )
    # Lazy: MLflow takes seconds to import; only mlflow targets need it.
    from reconciler.adapters import mlflow_workspace
    from reconciler.adapters.mlflow.versions import MlflowVersions

    return MlflowVersions(mlflow_workspace(project, name, target))


def seed_mlflow(registry: MlflowVersions, needed: dict[str, int]) -> Iterator[str]:
    """Register the versions ``needed`` names in an MLflow registry; one line per model."""
    if not needed:
        yield "no model versions named in the manifests"
        return
    yield f"registry: {registry.where}"
    try:
        for model, version in needed.items():
            added = registry.ensure_up_to(model, version)
            note = f"registered {', '.join(map(str, added))}" if added else "already there"
            yield f"{model}: versions 1..{version} READY ({note})"
    finally:
        registry.finish()
