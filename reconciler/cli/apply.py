"""``reconciler apply``: make the workspace match the manifests (or a saved plan)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from reconciler.apply.progress import LineProgress, LiveProgress
from reconciler.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    handle_errors,
    max_concurrency_option,
    network_options,
    options,
    ref_option,
    target_option,
)
from reconciler.cli.reads import load
from reconciler.commands.apply import ApplyRequest, run_apply
from reconciler.manifest.git_source import source_at
from reconciler.model.changes import Plan
from reconciler.model.errors import ApplyError
from reconciler.model.resources import KindName
from reconciler.project import parse_duration
from reconciler.render import render
from reconciler.runtime.context import ProgressSink
from reconciler.runtime.settings import DEFAULT_PARALLELISM, ApplySettings


def _show(plan: Plan) -> None:

    click.echo(render(plan, "text"), nl=False)


def _confirm_with(auto_approve: bool) -> bool:
    if auto_approve:
        return True
    return click.confirm("Apply these changes?", default=False, err=True)


@contextmanager
def _progress(plan: Plan) -> Iterator[ProgressSink]:

    log_format = options().log_format
    if log_format == "console" and sys.stderr.isatty():
        with LiveProgress(len(plan.changes)) as live:
            yield live
        return
    yield LineProgress(json_lines=log_format == "json")


def _duration(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _kind_timeouts(values: tuple[str, ...]) -> dict[str, float]:
    """``30m`` for every kind, ``vector_index=2h`` for one; later ones win."""
    out: dict[str, float] = {}
    for value in values:
        kind, sep, duration = value.rpartition("=")
        seconds = _duration(duration)
        assert seconds is not None
        if not sep:
            out.update({k.value: seconds for k in KindName})
        elif kind in {k.value for k in KindName}:
            out[kind] = seconds
        else:
            known = ", ".join(k.value for k in KindName)
            raise click.BadParameter(f"unknown kind {kind!r}; use one of {known}")
    return out


@click.command()
@target_option
@network_options
@click.argument(
    "plan_file", required=False, type=click.Path(dir_okay=False, path_type=Path), metavar="[PLAN]"
)
@click.option("--auto-approve", is_flag=True, help="Apply without asking (CI).")
@click.option(
    "--allow-delete",
    is_flag=True,
    help="Allow deletes and rebuilding replaces (e.g. a vector index); refused without it.",
)
@click.option(
    "--parallelism",
    type=click.IntRange(min=1),
    default=DEFAULT_PARALLELISM,
    show_default=True,
    help="Changes calling the API at once (waits for readiness do not count).",
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for a running apply that holds the target's lock (the lock of"
    " one that died on this host is taken over at once).",
)
@click.option(
    "--timeout",
    callback=lambda _ctx, _param, value: _duration(value),
    default=None,
    metavar="DURATION",
    help="Budget for the whole apply (seconds, or e.g. 90m, 2h); changes still queued then are"
    " skipped. Default: none, each change is bounded by its kind's timeout.",
)
@click.option(
    "--change-timeout",
    "change_timeouts",
    multiple=True,
    callback=lambda _ctx, _param, value: _kind_timeouts(value),
    metavar="[KIND=]DURATION",
    help="How long one change may take, waits included: for every kind, or KIND=DURATION for"
    " one (repeatable; e.g. vector_index=2h); wins over the target's `timeouts:`. Defaults:"
    " serving_endpoint and quota 45m, vector_search_endpoint and vector_index 75m, others 20m.",
)
@ref_option
@max_concurrency_option
@handle_errors
def apply(
    target: str | None,
    plan_file: Path | None,
    auto_approve: bool,
    allow_delete: bool,
    parallelism: int,
    lock_timeout: float,
    timeout: float | None,
    change_timeouts: dict[str, float],
    ref: str | None,
) -> None:
    """Apply the plan: create, update, adopt and (with --allow-delete) delete assets until
    the workspace matches the manifests. With PLAN (from 'plan -o'), apply exactly that plan:
    apply plans again and refuses, before any write, unless that gives exactly the saved plan
    (same project, target, manifests, live state and changes).

    \b
    Exit codes: 0 applied (or nothing to do), 1 refused or failed (summary lists each failure).
    """
    if plan_file is None and not auto_approve and not sys.stdin.isatty():
        raise ApplyError(
            "apply needs a confirmation, and there is no terminal to ask on",
            hint="pass --auto-approve (CI), or apply a reviewed plan file: apply plan.json",
        )
    if ref is not None and plan_file is not None:
        raise ApplyError("give either a PLAN file or --ref, not both", hint="a plan file is fixed")
    project = load()
    source = source_at(project.root, ref)
    settings = ApplySettings(
        parallelism=parallelism,
        timeout=timeout,
        timeouts=change_timeouts,
        commit=source.commit if source is not None else None,
    )
    request = ApplyRequest(
        target=target,
        plan_file=plan_file,
        allow_delete=allow_delete,
        lock_timeout=lock_timeout,
        settings=settings,
        source=source,
    )
    run = run_apply(
        project,
        request,
        show=_show,
        confirm=lambda _plan: _confirm_with(auto_approve),
        progress=_progress,
    )
    if run.result is None:
        click.echo(f"No changes. Target {run.target!r} matches the manifests.")
        sys.exit(EXIT_OK)
    if options().log_format == "json":
        click.echo(json.dumps(run.result.to_json(), indent=2))
    else:
        click.echo("\n".join(run.result.summary_lines()))
    sys.exit(EXIT_OK if run.result.ok else EXIT_ERROR)
