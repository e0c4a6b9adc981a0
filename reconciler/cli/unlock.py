"""``reconciler unlock``: release a target's apply lock (like terraform force-unlock)."""

from __future__ import annotations

import click

from reconciler.cli.common import handle_errors, options, target_option
from reconciler.commands.unlock import unlock_target
from reconciler.manifest import load_project


@click.command()
@target_option
@click.option(
    "--force",
    is_flag=True,
    help="Release it even when its holder still runs on this host.",
)
@handle_errors
def unlock(target: str | None, force: bool) -> None:
    """Release the target's apply lock, printing who held it.

    For a lease left by an apply that died elsewhere (a killed CI runner), which would
    otherwise block the target until it expires. An apply that died on this host needs no
    unlock: the next apply takes its lock over. A holder still running on this host is
    refused unless --force.

    \b
    Exit codes: 0 released (or not locked), 1 refused or failed.
    """
    project = load_project(options().project_dir)
    done = unlock_target(project, target, force=force)
    click.echo("\n".join(done.lines()))
