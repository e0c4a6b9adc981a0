"""Checks that need more than one asset or the target: duplicates across files, references
between assets, and what a target type can hold. Then the expansion into Resources.

Every error points at the value at fault, and a duplicate names both places. What a kind checks
about its own entries (names a target takes, references it needs declared) is the kind's rule.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.kinds.registry import all_rules, manifest_kinds, registry_kinds, rules_for
from reconciler.manifest.document import PathKey, Positions
from reconciler.model.digest import ManifestDigest
from reconciler.model.errors import Location, ManifestError
from reconciler.model.resources import DesiredState, Resource
from reconciler.model.spec import Spec
from reconciler.project import PROJECT_FILE, Project, TargetType


@dataclass(frozen=True)
class LoadedFile:
    """One validated manifest file and where its values were written."""

    path: str
    manifest: Spec
    """A ``ManifestFile``: one list per kind, under the kind's manifest key."""
    positions: Positions
    source: str = ""
    """The file's POSIX path relative to the project root (its name in the plan's digest)."""
    sha256: str = ""
    """SHA-256 of the bytes read."""


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
        for rules in manifest_kinds():
            top_key = str(rules.manifest_key)
            specs: list[Spec] = getattr(file.manifest, top_key)
            for index, spec in enumerate(specs):
                table = pos.by_asset.get((top_key, index), {})
                here = table.get("") or pos.at(top_key, index)
                resource = Resource(rules.kind, rules.name_of(spec), spec, here)
                _add(resources, positions, resource, table)
                where = functools.partial(pos.at, top_key, index)
                rules.check_entry(resource, where, target_name, target)
                for derived, sub in rules.derived(resource, table):
                    _add(resources, positions, derived, sub)
    desired = DesiredState(
        project=project.project,
        target=target_name,
        resources=resources,
        positions=positions,
        files=tuple(f.path for f in files),
        manifests=_digest(project, files),
    )
    for kind, rules in all_rules().items():
        for resource in desired.of_kind(kind):
            rules.check_references(resource, desired, target)
    return desired


def _digest(project: Project, files: Sequence[LoadedFile]) -> ManifestDigest:
    hashes = {f.source or f.path: f.sha256 for f in files}
    if project.file_sha256:
        hashes[PROJECT_FILE] = project.file_sha256
    return ManifestDigest.of_hashes(hashes)


def _add(
    resources: dict[str, Resource],
    positions: dict[str, dict[str, Location]],
    resource: Resource,
    table: dict[str, Location],
) -> None:
    address = resource.address
    previous = resources.get(address)
    if previous is not None:
        noun = rules_for(resource.kind).noun
        raise ManifestError(
            f"{noun} {resource.name!r} is declared twice: here and at {previous.location}",
            location=table.get("name") or resource.location,
            hint="each asset is declared once across all manifest files",
        )
    resources[address] = resource
    positions[address] = table


def _check_mlflow(file: LoadedFile, target_name: str) -> None:
    held = registry_kinds()
    for rules in manifest_kinds():
        key = str(rules.manifest_key)
        if rules.kind in held or not getattr(file.manifest, key):
            continue
        raise ManifestError(
            f"target {target_name!r} is an mlflow registry, which holds only registered_models"
            f" (and their aliases); it cannot hold {key}",
            location=file.positions.keys.get((key,)) or Location(file.path, 1, 1),
            hint=f"use a databricks or sandbox target, or set targets.{target_name}.include"
            " to the registry manifests only",
        )
