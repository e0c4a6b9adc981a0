"""``reconciler schema``: write (or check) the JSON Schemas for editors."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli.common import handle_errors
from reconciler.manifest import schema as schemas
from reconciler.model.errors import ReconcilerError


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("schemas"),
    show_default=True,
    help="Directory for manifest.schema.json and project.schema.json.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the files are not current.")
@handle_errors
def schema(out_dir: Path, check: bool) -> None:
    """Generate the JSON Schemas of manifests and reconciler.yaml from the models."""
    if check:
        outdated = schemas.stale(out_dir)
        if outdated:
            raise ReconcilerError(
                f"schemas not current in {out_dir}: {', '.join(outdated)}",
                hint="run `reconciler schema` (or `make schema`) and commit the result",
            )
        click.echo(f"schemas in {out_dir} are current")
        return
    for path in schemas.write(out_dir):
        click.echo(f"wrote {path}")
