"""``reconciler import``: write manifests for assets that already exist in a workspace."""

from __future__ import annotations

import os
from pathlib import Path

import click

from reconciler.cli.common import cli, handle_errors, options, target_option
from reconciler.importer.run import IMPORTABLE
from reconciler.model.errors import ManifestError
from reconciler.project import Project


def _declared(project: Project, target: str) -> set[str]:
    """Addresses the manifests already declare (none when there are no manifests yet)."""
    from reconciler.manifest import load_desired_state

    try:
        return set(load_desired_state(project, target).resources)
    except ManifestError as error:
        if "match no files" in error.message:
            return set()
        raise


@cli.command("import")
@target_option
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice([k.value for k in IMPORTABLE]),
    help="Kinds to import (repeatable; default: all). Aliases come with registered_model.",
)
@click.option("--name", "pattern", default="*", show_default=True, help="Glob over asset names.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("manifests/imported"),
    show_default=True,
    help="Directory for the files (relative to the project root).",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@handle_errors
def import_(
    target: str | None, kinds: tuple[str, ...], pattern: str, out: Path, force: bool
) -> None:
    """Write manifests (one file per kind) for the live assets matching --kind and --name.

    Server defaults are left out; planning against the written files is empty. Assets the
    manifests already declare, assets owned by another project, and endpoints serving
    foundation models are skipped and listed.
    """
    from reconciler.importer.run import import_assets
    from reconciler.importer.writer import write_files
    from reconciler.model.resources import KindName
    from reconciler.project import display_path, load_project, select_target
    from reconciler.workspace import open_workspace

    project = load_project(options().project_dir)
    name, _ = select_target(project, target)
    chosen = [KindName(k) for k in kinds] or list(IMPORTABLE)
    declared = _declared(project, name)
    with open_workspace(project, name) as workspace:
        result = import_assets(
            workspace, chosen, pattern=pattern, project=project.project, declared=declared
        )
    for address, why in result.skipped:
        click.echo(f"skipped {address}: {why}", err=True)
    if not result.entries:
        click.echo(f"no {', '.join(k.value for k in chosen)} matched {pattern!r}", err=True)
        return
    directory = out if out.is_absolute() else project.root / out
    schema_file = project.root / "schemas" / "manifest.schema.json"
    schema = os.path.relpath(schema_file, directory) if schema_file.exists() else None
    for path in write_files(result.entries, directory, target=name, force=force, schema=schema):
        click.echo(f"wrote {display_path(path)}")
    click.echo(f"{result.count()} assets imported; check with: reconciler plan -t {name}")
