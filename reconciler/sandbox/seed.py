"""Which model versions a project's manifests need, so a fresh sandbox can hold them.

Model versions come from training pipelines, never from the reconciler; in the sandbox,
``reconciler sandbox seed`` plays that pipeline for the versions the manifests name.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.kinds.registered_model import ModelAliasSpec
from reconciler.kinds.serving_endpoint import ServingEndpointSpec
from reconciler.model.resources import DesiredState, KindName
from reconciler.project import Project, Target, TargetType

SANDBOX_STATE = Path(".reconciler") / "sandbox"


def state_dir_for(project: Project, target: Target | None = None) -> Path:
    """``<root>/.reconciler/sandbox``, or the sandbox target's ``state_dir`` (root-relative)."""
    if target is not None and target.type is TargetType.SANDBOX and target.state_dir:
        return (project.root / target.state_dir).resolve()
    return project.root / SANDBOX_STATE


def versions_needed(desired: DesiredState) -> dict[str, int]:
    """Model full name -> the highest version an alias or a served entity names."""
    aliases: dict[str, int] = {}
    needed: dict[str, int] = {}

    def need(model: str, version: int) -> None:
        needed[model] = max(needed.get(model, 0), version)

    for resource in desired.of_kind(KindName.MODEL_ALIAS):
        spec = resource.spec
        if isinstance(spec, ModelAliasSpec):
            aliases[f"{spec.model}@{spec.alias}"] = spec.version
            need(spec.model, spec.version)
    for resource in desired.of_kind(KindName.SERVING_ENDPOINT):
        spec = resource.spec
        if not isinstance(spec, ServingEndpointSpec):
            continue
        for entity in spec.served_entities:
            if entity.version is not None:
                need(entity.model_name, entity.version)
            elif entity.entity in aliases:
                need(entity.model_name, aliases[entity.entity])
    return dict(sorted(needed.items()))
