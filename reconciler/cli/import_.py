"""``reconciler import``: write manifests for assets that already exist in a workspace."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli.common import handle_errors, network_options, target_option
from reconciler.cli.reads import load
from reconciler.commands.importing import import_from, write_import
from reconciler.importer.run import IMPORTABLE
from reconciler.model.resources import KindName
from reconciler.project import display_path


@click.command("import")
@target_option
@network_options
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

    Server defaults are left out; planning against the written files changes no field (an
    asset no project owns yet is an adopt without diffs: apply writes only its ownership
    marker, and the plan after it is empty). Secret references are written as they are (never
    printed). Assets the manifests already declare, assets owned by another project,
    pay-per-token endpoints, system catalog models and endpoints whose external-model
    credentials were given as plaintext (never returned) are skipped and listed. Live fields no
    manifest can express are named in a warning each (apply keeps them at their live values).
    """
    project = load()
    chosen = [KindName(k) for k in kinds] or list(IMPORTABLE)
    name, result = import_from(project, target, chosen, pattern)
    for address, why in result.skipped:
        click.echo(f"skipped {address}: {why}", err=True)
    for address, field in result.unwritten:
        click.echo(
            f"warning: {address}: {field} is set live but cannot be written in a manifest;"
            " apply keeps its live value",
            err=True,
        )
    if not result.entries:
        skipped = len(result.skipped)
        if skipped == 1:
            kind = result.skipped[0][0].split(".", 1)[0]
            said = f"the 1 {kind} matching {pattern!r} was skipped (above)"
        elif skipped:
            said = f"the {skipped} assets matching {pattern!r} were skipped (above)"
        else:
            said = f"no {', '.join(k.value for k in chosen)} matched {pattern!r}"
        click.echo(f"nothing imported: {said}" if skipped else said, err=True)
        return
    for path in write_import(project, name, result, out, force=force):
        click.echo(f"wrote {display_path(path)}")
    count = result.count()
    click.echo(
        f"{count} asset{'' if count == 1 else 's'} imported; check with: reconciler plan -t {name}"
    )
    if result.unowned:
        unowned = len(result.unowned)
        who = "no project owns it yet" if count == 1 else f"{unowned} of them no project owns yet"
        it, its = (
            ("it", "its ownership marker") if unowned == 1 else ("them", "their ownership markers")
        )
        click.echo(
            f"{who}: the plan adopts {it} (no field changes) and apply writes only {its};"
            " then the plan is empty"
        )
