"""Checks that need more than one asset or the target: duplicates across files, references
between assets, and what a target type can hold. Then the expansion into Resources.

Every error points at the value at fault, and a duplicate names both places.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reconciler.kinds.base import UC_NAME
from reconciler.kinds.registered_model import ModelAliasSpec, RegisteredModelSpec
from reconciler.manifest.document import PathKey
from reconciler.model.errors import Location, ManifestError
from reconciler.model.resources import DesiredState, KindName, Resource
from reconciler.model.spec import Spec
from reconciler.project import Project, TargetType

if TYPE_CHECKING:
    from reconciler.manifest.loader import LoadedFile

TOP_KEY_KIND: dict[str, KindName] = {
    "registered_models": KindName.REGISTERED_MODEL,
    "serving_endpoints": KindName.SERVING_ENDPOINT,
    "vector_search_endpoints": KindName.VECTOR_SEARCH_ENDPOINT,
    "vector_indexes": KindName.VECTOR_INDEX,
    "quotas": KindName.QUOTA,
}
MLFLOW_KEYS = frozenset({"registered_models"})
_NOUN = {
    KindName.REGISTERED_MODEL: "registered model",
    KindName.SERVING_ENDPOINT: "serving endpoint",
    KindName.VECTOR_SEARCH_ENDPOINT: "vector search endpoint",
    KindName.VECTOR_INDEX: "vector index",
    KindName.QUOTA: "quota for endpoint",
}


class _Positions:
    """Positions of all files split per asset in one pass (assets are ``(top_key, index)``)."""

    def __init__(self, file: LoadedFile) -> None:
        self.file = file
        self.by_asset: dict[PathKey, dict[str, Location]] = {}
        for path, loc in file.positions.values.items():
            if len(path) >= 2:
                rest = ".".join(str(p) for p in path[2:])
                self.by_asset.setdefault(path[:2], {})[rest] = loc

    def at(self, *path: str | int) -> Location:
        return self.file.positions.find(tuple(path))


def build_desired_state(
    project: Project, target_name: str, files: Sequence[LoadedFile]
) -> DesiredState:
    target = project.targets[target_name]
    is_mlflow = target.type is TargetType.MLFLOW
    resources: dict[str, Resource] = {}
    positions: dict[str, dict[str, Location]] = {}
    for file in files:
        pos = _Positions(file)
        if is_mlflow:
            _check_mlflow(file, target_name)
        for top_key, kind in TOP_KEY_KIND.items():
            specs: list[Spec] = getattr(file.manifest, top_key)
            for index, spec in enumerate(specs):
                table = pos.by_asset.get((top_key, index), {})
                here = table.get("") or pos.at(top_key, index)
                name = str(getattr(spec, "name"))  # noqa: B009 - QuotaSpec.name is a property
                _add(resources, positions, Resource(kind, name, spec, here), table)
                if isinstance(spec, RegisteredModelSpec):
                    if not is_mlflow and not UC_NAME.match(spec.name):
                        raise ManifestError(
                            f"registered model name {spec.name!r} must be a three-level Unity"
                            " Catalog name: catalog.schema.model",
                            location=pos.at(top_key, index, "name"),
                            hint=f"{target.type.value} targets keep models in Unity Catalog;"
                            " only mlflow targets take free-form names",
                        )
                    if is_mlflow and spec.owner is not None:
                        raise ManifestError(
                            f"registered model {spec.name!r}: MLflow registries have no model"
                            " owner",
                            location=pos.at(top_key, index, "owner"),
                            hint=f"remove 'owner' or use it only on databricks targets"
                            f" (target {target_name!r} is an mlflow registry)",
                        )
                    _add_aliases(resources, positions, spec, table, here)
    desired = DesiredState(
        project=project.project,
        target=target_name,
        resources=resources,
        positions=positions,
        files=tuple(f.path for f in files),
    )
    _check_references(desired, is_mlflow)
    return desired


def _add(
    resources: dict[str, Resource],
    positions: dict[str, dict[str, Location]],
    resource: Resource,
    table: dict[str, Location],
) -> None:
    address = resource.address
    previous = resources.get(address)
    if previous is not None:
        noun = _NOUN.get(resource.kind, resource.kind.value)
        raise ManifestError(
            f"{noun} {resource.name!r} is declared twice: here and at {previous.location}",
            location=table.get("name") or resource.location,
            hint="each asset is declared once across all manifest files",
        )
    resources[address] = resource
    positions[address] = table


def _add_aliases(
    resources: dict[str, Resource],
    positions: dict[str, dict[str, Location]],
    model: RegisteredModelSpec,
    table: dict[str, Location],
    here: Location,
) -> None:
    for alias, entry in model.alias_entries().items():
        prefix = f"aliases.{alias}"
        sub = {k[len(prefix) + 1 :]: v for k, v in table.items() if k.startswith(prefix + ".")}
        sub[""] = table.get(prefix, here)
        spec = ModelAliasSpec(
            model=model.name, alias=alias, version=entry.version, approval=entry.approval
        )
        _add(resources, positions, Resource(KindName.MODEL_ALIAS, spec.name, spec, sub[""]), sub)


def _check_mlflow(file: LoadedFile, target_name: str) -> None:
    for key in TOP_KEY_KIND:
        if key in MLFLOW_KEYS or not getattr(file.manifest, key):
            continue
        raise ManifestError(
            f"target {target_name!r} is an mlflow registry, which holds only registered_models"
            f" (and their aliases); it cannot hold {key}",
            location=file.positions.keys.get((key,)) or Location(file.path, 1, 1),
            hint=f"use a databricks or sandbox target, or set targets.{target_name}.include"
            " to the registry manifests only",
        )


def _check_references(desired: DesiredState, is_mlflow: bool) -> None:
    from reconciler.kinds.serving_endpoint import ServingEndpointSpec
    from reconciler.kinds.vector_search import VectorIndexSpec

    vs_endpoints = {r.name for r in desired.of_kind(KindName.VECTOR_SEARCH_ENDPOINT)}
    for resource in desired.of_kind(KindName.VECTOR_INDEX):
        spec = resource.spec
        assert isinstance(spec, VectorIndexSpec)
        if spec.endpoint not in vs_endpoints:
            raise ManifestError(
                f"vector index {spec.name!r} is on vector search endpoint {spec.endpoint!r},"
                " which is not declared",
                location=desired.location_of(resource.address, "endpoint"),
                hint="declare it under vector_search_endpoints (with `external: true` if it is"
                " managed elsewhere)",
            )
    if is_mlflow:
        return
    for resource in desired.of_kind(KindName.SERVING_ENDPOINT):
        endpoint = resource.spec
        assert isinstance(endpoint, ServingEndpointSpec)
        for index, entity in enumerate(endpoint.served_entities):
            if not UC_NAME.match(entity.model_name):
                raise ManifestError(
                    f"served entity {entity.name!r}: {entity.model_name!r} is not a three-level"
                    " Unity Catalog name (catalog.schema.model)",
                    location=desired.location_of(
                        resource.address, f"served_entities.{index}.entity"
                    ),
                    hint="write the entity as catalog.schema.model@alias",
                )
