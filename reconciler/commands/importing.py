"""``import`` as a library call: manifest entries for a target's live assets, then the files."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from reconciler.adapters import open_workspace
from reconciler.importer.run import ImportResult, import_assets
from reconciler.importer.writer import write_files
from reconciler.manifest import load_desired_state
from reconciler.model.errors import ManifestError
from reconciler.model.resources import KindName
from reconciler.project import Project, select_target


def declared_addresses(project: Project, target: str) -> set[str]:
    """Addresses the manifests already declare (none when there are no manifests yet)."""
    try:
        return set(load_desired_state(project, target).resources)
    except ManifestError as error:
        if "match no files" in error.message:
            return set()
        raise


def import_from(
    project: Project, target: str | None, kinds: Sequence[KindName], pattern: str = "*"
) -> tuple[str, ImportResult]:
    """The target's name, and the entries for its live assets of ``kinds`` matching
    ``pattern`` (assets already declared or owned by another project are skipped)."""
    name, _ = select_target(project, target)
    declared = declared_addresses(project, name)
    with open_workspace(project, name) as workspace:
        result = import_assets(
            workspace, kinds, pattern=pattern, project=project.project, declared=declared
        )
    return name, result


def write_import(
    project: Project, target: str, result: ImportResult, out: Path, *, force: bool = False
) -> list[Path]:
    """One file per kind under ``out`` (relative to the project root), pointing editors at
    the project's manifest schema when it has one."""
    directory = out if out.is_absolute() else project.root / out
    schema_file = project.root / "schemas" / "manifest.schema.json"
    schema = os.path.relpath(schema_file, directory) if schema_file.exists() else None
    return write_files(result.entries, directory, target=target, force=force, schema=schema)
