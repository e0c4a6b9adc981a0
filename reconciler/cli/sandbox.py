"""``reconciler sandbox``: serve, seed, register-version and reset the local workspace."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli.common import ReconcilerGroup, handle_errors, options, target_option
from reconciler.commands.sandbox import (
    SANDBOX_STATE,
    mlflow_versions,
    seed_mlflow,
    state_dir_for,
    versions_needed,
)
from reconciler.manifest import load_desired_state, load_project
from reconciler.manifest.inputs import writable_dir_problem
from reconciler.model.errors import ReconcilerError
from reconciler.project import TargetType, find_project_file, select_target
from reconciler.sandbox import (
    Delays,
    SandboxConfig,
    SandboxServer,
    reset_state,
)
from reconciler.sandbox.config import parse_fail_operations
from reconciler.sandbox.server import check_operations

if TYPE_CHECKING:
    from reconciler.adapters.mlflow.versions import MlflowVersions

STATE_HELP = "State directory (default: <project root>/.reconciler/sandbox)."


def _mlflow_target(target_name: str | None, state: Path | None) -> MlflowVersions | None:
    """The registry of the selected target when it is an ``mlflow`` one, else None (the
    sandbox: also outside a project, and with ``--state`` and no ``-t``)."""
    if state is not None and target_name is None:
        return None
    try:
        find_project_file(options().project_dir)
    except ReconcilerError:
        if target_name is not None or options().project_dir is not None:
            raise
        return None
    project = load_project(options().project_dir)  # a broken project file is an error
    name, target = select_target(project, target_name)
    if target.type is TargetType.DATABRICKS and state is None:
        raise _not_a_sandbox(name, target.host)
    if target.type is not TargetType.MLFLOW:
        return None
    return mlflow_versions(project, name, target, state)


def _not_a_sandbox(name: str, host: str | None) -> ReconcilerError:
    """Versions are never registered in a Databricks workspace: its training pipelines do
    that. Writing them into the project's local sandbox instead would report success while
    the target stays empty."""
    where = f" ({host})" if host else ""
    return ReconcilerError(
        f"target {name!r}{where} is a Databricks workspace: the sandbox commands register"
        " model versions only in the sandbox or in an mlflow target's registry",
        hint="on a workspace, training pipelines register versions; pick a sandbox or mlflow"
        " target with -t, or, for a 'reconciler sandbox serve' behind this target, pass --state"
        " with its state directory",
    )


def _state_dir(state: Path | None, target_name: str | None = None, *, create: bool = True) -> Path:
    """``--state``, else the project's sandbox state (the working directory's without one);
    with ``create``, made and checked writable so a bad directory is one clear error."""
    path = state if state is not None else _project_state_dir(target_name)
    if create:
        _check_writable(path)
    return path


def _check_writable(path: Path) -> None:
    problem = writable_dir_problem(path)
    if problem is not None:
        raise ReconcilerError(
            f"sandbox state directory {path}: {problem}",
            hint="pass --state DIR with a directory you can write, or fix the target's state_dir",
        )


def _project_state_dir(target_name: str | None) -> Path:
    try:
        find_project_file(options().project_dir)
    except ReconcilerError:
        if options().project_dir is not None:
            raise
        return Path.cwd() / SANDBOX_STATE
    project = load_project(options().project_dir)  # a broken project file is an error
    target = project.targets.get(target_name or "") if target_name else None
    if target is None:
        try:
            target = select_target(project, target_name)[1]
        except ReconcilerError:
            target = None
    return state_dir_for(project, target)


def _quiet_sdk() -> None:
    # The SDK warns that the sandbox has no host metadata; that is expected here.
    logging.getLogger("databricks.sdk").setLevel(logging.ERROR)


@click.group("sandbox", cls=ReconcilerGroup)
def sandbox() -> None:
    """A local workspace that speaks the Databricks REST API (no account needed)."""


@sandbox.command("serve")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    metavar="PORT",
    default=8765,
    show_default=True,
    help="Loopback port to listen on (0 picks a free one).",
)
@click.option("--state", type=click.Path(file_okay=False, path_type=Path), help=STATE_HELP)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0, min_open=True, max=1_000_000),
    metavar="N",
    help="Admit at most N API requests per second (a workspace's API limit); the rest get"
    " 429 REQUEST_LIMIT_EXCEEDED with Retry-After.",
)
@click.option(
    "--latency-ms",
    type=click.FloatRange(0, 60_000),
    metavar="MS",
    help="Milliseconds added to every API call.",
)
@click.option(
    "--fault-rate",
    type=click.FloatRange(0, 1),
    metavar="RATE",
    help="Fraction of API calls (0-1) answered with a fault instead of being served.",
)
@click.option(
    "--fault-status",
    type=click.Choice(["429", "500", "503"]),
    help="Status of injected faults (429 carries Retry-After).",
)
@click.option(
    "--retry-after",
    type=click.IntRange(0, 3600),
    metavar="SECONDS",
    help="Retry-After seconds on injected 429s.",
)
@click.option(
    "--fault-operations",
    metavar="GLOB[,GLOB]",
    help="Only these operations get random faults, e.g. 'serving_endpoints.*,*.create*'.",
)
@click.option("--seed", type=int, help="Random seed: the same calls get the same faults.")
@click.option(
    "--fail-operation",
    multiple=True,
    metavar="OP[=STATUS[xTIMES]]",
    help="Make an operation fail, e.g. serving_endpoints.update_config=500x2 (repeatable)."
    " STATUS drop closes the connection without serving the call, lost serves it and then"
    " closes the connection without an answer.",
)
@click.option(
    "--slow-readiness",
    type=click.FloatRange(0, 86_400),
    metavar="SECONDS",
    help="Extra seconds before anything gets ready.",
)
@click.option(
    "--delay-ms",
    type=click.FloatRange(0),
    metavar="MS",
    help="Every state-machine delay (updates, readiness, index deletion), in milliseconds.",
)
@click.option(
    "--pending-deletion",
    type=click.FloatRange(0),
    metavar="SECONDS",
    help="How long a deleted index name stays 'pending deletion' (a re-create gets 400).",
)
@click.option(
    "--budget-policy",
    metavar="ID",
    help="The workspace's default budget policy: the effective_budget_policy_id of endpoints"
    " created without one.",
)
@click.option(
    "--not-admin",
    is_flag=True,
    help="The caller is not a workspace admin: serving endpoint ACLs apply to it, so removing"
    " its own CAN_MANAGE locks it out.",
)
@click.option(
    "--empty-pages",
    is_flag=True,
    help="Answer an empty page (with a next-page token) before every real page of a paged"
    " list, as real services may.",
)
@click.option("--quiet", is_flag=True, help="Do not log each request to stderr.")
@handle_errors
def serve(
    port: int,
    state: Path | None,
    rate_limit: float | None,
    latency_ms: float | None,
    fault_rate: float | None,
    fault_status: str | None,
    retry_after: int | None,
    fault_operations: str | None,
    seed: int | None,
    fail_operation: tuple[str, ...],
    slow_readiness: float | None,
    delay_ms: float | None,
    pending_deletion: float | None,
    budget_policy: str | None,
    not_admin: bool,
    empty_pages: bool,
    quiet: bool,
) -> None:
    """Serve the sandbox in the foreground until Ctrl-C.

    Settings not given here come from RECONCILER_SANDBOX_* environment variables
    (see docs/sandbox.md); faults can also be changed while it runs: POST /sandbox/faults.
    """
    try:
        config = SandboxConfig().with_env()
        faults = config.faults
        if rate_limit is not None:
            faults.rate_limit = rate_limit
        if latency_ms is not None:
            faults.latency_ms = latency_ms
        if fault_rate is not None:
            faults.fault_rate = fault_rate
        if fault_status is not None:
            faults.fault_status = int(fault_status)
        if retry_after is not None:
            faults.retry_after = retry_after
        if fault_operations is not None:
            faults.fault_operations = [p.strip() for p in fault_operations.split(",") if p.strip()]
        if seed is not None:
            faults.seed = seed
        if fail_operation:
            faults.fail_operations.update(parse_fail_operations(",".join(fail_operation)))
        check_operations(faults.fail_operations)
    except ValueError as error:
        raise ReconcilerError(f"sandbox settings: {error}") from None
    if slow_readiness is not None:
        faults.slow_readiness = slow_readiness
    if delay_ms is not None:
        s = delay_ms / 1000.0
        config.delays = Delays(s, s, s, s, s)
    if pending_deletion is not None:
        config.delays.index_deletion = pending_deletion
    if budget_policy:
        config.workspace_budget_policy_id = budget_policy
    config.caller_is_admin = not not_admin
    config.empty_pages = config.empty_pages or empty_pages
    config.log_requests = not quiet
    state_dir = _state_dir(state)
    server = SandboxServer(state_dir, port=port, config=config)
    try:
        server.start()
    except OSError as error:
        raise ReconcilerError(
            f"cannot listen on 127.0.0.1:{port}: {error.strerror}",
            hint="pick another --port (0 chooses a free one)",
        ) from None
    click.echo(f"sandbox: serving the Databricks REST API at {server.url}")
    click.echo(f"sandbox: state in {state_dir}")
    click.echo(f"  export DATABRICKS_HOST={server.url} DATABRICKS_TOKEN=sandbox")
    click.echo("  (any token works; Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("sandbox: stopped")


@sandbox.command("register-version")
@click.argument("model")
@target_option
@click.option("--state", type=click.Path(file_okay=False, path_type=Path), help=STATE_HELP)
@click.option(
    "--status",
    type=click.Choice(["READY", "PENDING_REGISTRATION", "FAILED_REGISTRATION"]),
    default="READY",
    show_default=True,
)
@click.option("--source", help="Artifact URI recorded on the version.")
@click.option("--comment", help="Description recorded on the version.")
@handle_errors
def register_version_cmd(
    model: str,
    target: str | None,
    state: Path | None,
    status: str,
    source: str | None,
    comment: str | None,
) -> None:
    """Register MODEL's next version, as a pipeline would.

    On the sandbox MODEL is catalog.schema.model. On an mlflow target (-t, or the default
    target) the version goes to that target's registry, from a placeholder run unless
    --source is given; MLflow marks it READY itself. The model is created when missing.
    A databricks target is refused unless --state names the state directory of the
    'sandbox serve' it points at.
    """
    registry = _mlflow_target(target, state)
    if registry is not None:
        if status != "READY":
            raise ReconcilerError(
                f"an MLflow registry marks new versions READY itself; cannot register {status}",
                hint="drop --status for mlflow targets",
            )
        try:
            number = registry.register(model, source=source, description=comment)
        finally:
            registry.finish()
        click.echo(f"registered {model} version {number} (READY) in {registry.where}")
        return
    if len(model.split(".")) != 3:
        raise ReconcilerError(f"model {model!r} must be <catalog>.<schema>.<model>")
    _quiet_sdk()
    # Lazy: databricks-sdk takes seconds to import; only these commands need it.
    from reconciler.sandbox.registry import register_version, workspace_client

    with SandboxServer(_state_dir(state, target)) as server:
        client = workspace_client(server.url, retry_timeout_seconds=30)
        info = register_version(
            client,
            model,
            source=source,
            comment=comment,
            status=status,  # type: ignore[arg-type]
        )
    click.echo(f"registered {model} version {info.version} ({status})")


@sandbox.command("seed")
@target_option
@click.option("--state", type=click.Path(file_okay=False, path_type=Path), help=STATE_HELP)
@handle_errors
def seed(target: str | None, state: Path | None) -> None:
    """Register the model versions the manifests name (READY).

    For every model, versions 1..N where N is the highest version an alias or a served entity
    of the target names. On an mlflow target they go to that target's registry (from a
    placeholder run); Unity Catalog through MLflow (databricks-uc) is refused. A databricks
    target is refused unless --state names the state directory of the 'sandbox serve' it
    points at.
    """
    project = load_project(options().project_dir)
    target_name, target_obj = select_target(project, target)
    desired = load_desired_state(project, target_name)
    needed = versions_needed(desired)
    if target_obj.type is TargetType.DATABRICKS and state is None:
        raise _not_a_sandbox(target_name, target_obj.host)
    if target_obj.type is TargetType.MLFLOW:
        registry = mlflow_versions(project, target_name, target_obj, state)
        for line in seed_mlflow(registry, needed):
            click.echo(line)
        return
    state_dir = state if state is not None else state_dir_for(project, target_obj)
    _check_writable(state_dir)
    _quiet_sdk()
    # Lazy: databricks-sdk takes seconds to import; only these commands need it.
    from reconciler.sandbox.registry import register_versions_up_to, workspace_client

    with SandboxServer(state_dir) as server:
        client = workspace_client(server.url, retry_timeout_seconds=30)
        for model, version in needed.items():
            added = register_versions_up_to(client, model, version)
            note = f"registered {', '.join(map(str, added))}" if added else "already there"
            click.echo(f"{model}: versions 1..{version} READY ({note})")
    if not needed:
        click.echo("no model versions named in the manifests")


@sandbox.command("reset")
@click.option("--state", type=click.Path(file_okay=False, path_type=Path), help=STATE_HELP)
@handle_errors
def reset(state: Path | None) -> None:
    """Empty the sandbox: the next start is a fresh workspace."""
    state_dir = _state_dir(state, create=False)
    if reset_state(state_dir):
        click.echo(f"sandbox: reset {state_dir}")
    else:
        click.echo(f"sandbox: nothing to reset in {state_dir}")
