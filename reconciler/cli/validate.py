"""``reconciler validate``: every offline check of the project and its manifests."""

from __future__ import annotations

from collections import Counter

import click

from reconciler.cli.common import handle_errors, options, target_option
from reconciler.manifest import load_desired_state, load_project
from reconciler.model.resources import DesiredState, KindName


def summary(desired: DesiredState) -> str:
    """``OK: project (target t): 2 registered_model, 3 model_alias, ... in 4 files``."""
    counts = Counter(r.kind for r in desired.resources.values())
    parts = [f"{counts[k]} {k.value}" for k in KindName if counts[k]]
    what = ", ".join(parts) if parts else "no assets"
    files = len(desired.files)
    return (
        f"OK: {desired.project} (target {desired.target}): {what}"
        f" in {files} file{'s' if files != 1 else ''}"
    )


@click.command()
@target_option
@click.option(
    "--all-targets", is_flag=True, help="Validate the manifests for every target in turn."
)
@handle_errors
def validate(target: str | None, all_targets: bool) -> None:
    """Check the project file and manifests offline: syntax, fields, references, target rules.

    No workspace is contacted. Exit 0 when valid, 1 with the first problem's file:line:col.
    """
    project = load_project(options().project_dir)
    names = list(project.targets) if all_targets else [target]
    for name in names:
        click.echo(summary(load_desired_state(project, name)))
