"""``reconciler plan``: read the live workspace and show what apply would change. Never writes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from reconciler.cli.common import (
    EXIT_CHANGES,
    format_option,
    handle_errors,
    max_concurrency_option,
    network_options,
    options,
    ref_option,
    target_option,
)
from reconciler.cli.reads import load, read_summary
from reconciler.commands.plan import make_plan
from reconciler.manifest.git_source import source_at
from reconciler.plan.planfile import save
from reconciler.render import Format, render


@click.command()
@target_option
@network_options
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan (with a fingerprint of the live state and a digest of the manifests)"
    " for 'apply PLAN_FILE'.",
)
@format_option("pull-request comments")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there are changes (0: none, 1: error).",
)
@ref_option
@max_concurrency_option
@handle_errors
def plan(
    target: str | None,
    out: Path | None,
    fmt: str,
    detailed_exitcode: bool,
    ref: str | None,
) -> None:
    """Show the changes that would bring the target to the manifests' desired state, and
    the declared assets that are not healthy (with the workspace's message). A declared asset
    that exists and no project owns is shown as `adopt`: apply takes it over.

    Only reads: no write call is made. Exit 0 on success (with --detailed-exitcode: 0 when
    nothing changes, 2 when something does), 1 on error.
    """
    opts = options()
    project = load()
    result = make_plan(project, target, source=source_at(project.root, ref))
    if opts.verbose:
        click.echo(read_summary(result.live), err=True)
    color = fmt == Format.TEXT.value and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    click.echo(render(result.plan, fmt, color=color), nl=False, color=color)
    if out is not None:
        save(result.plan, out)
        click.echo(f"saved plan to {out}", err=True)
    if detailed_exitcode and not result.plan.empty:
        sys.exit(EXIT_CHANGES)
