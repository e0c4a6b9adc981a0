"""``reconciler drift``: is the live workspace still what the manifests say?"""

from __future__ import annotations

import sys

import click

from reconciler.cli.common import (
    EXIT_CHANGES,
    EXIT_OK,
    format_option,
    handle_errors,
    max_concurrency_option,
    network_options,
    ref_option,
    target_option,
)
from reconciler.cli.reads import load
from reconciler.commands.drift import drift as drift_of
from reconciler.gitops.drift import render
from reconciler.manifest.git_source import source_at


@click.command()
@target_option
@network_options
@format_option("issues")
@ref_option
@max_concurrency_option
@handle_errors
def drift(target: str | None, fmt: str, ref: str | None) -> None:
    """Compare the live workspace with the manifests; list each drifted field with its live
    and manifest values, and the declared assets that are not healthy (a failed update, a
    stopped endpoint, an offline index) with the workspace's message. Fields a target's
    `ignore:` rules cover are not drift.

    \b
    Exit codes: 0 in sync and healthy, 2 drift or degraded assets, 1 error. Never writes.
    """
    project = load()
    report = drift_of(project, target, source=source_at(project.root, ref))
    click.echo(render(report, fmt), nl=False)
    sys.exit(EXIT_OK if report.clean else EXIT_CHANGES)
