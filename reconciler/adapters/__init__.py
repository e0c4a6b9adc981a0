"""Adapters to live systems, and ``open_workspace``: the one way commands get one for a target.

One package per target type (``databricks``, which the sandbox speaks too, and ``mlflow``); in
each, one module per kind holds the reads, the writes and the wire mapping both ways.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.adapters import sdk_import
from reconciler.manifest.project_file import prepare_state_dir
from reconciler.model.errors import WorkspaceError
from reconciler.model.live import Workspace
from reconciler.project import Project, Target, TargetType, select_target
from reconciler.sandbox import SandboxConfig, SandboxServer
from reconciler.sandbox.server import check_operations

if TYPE_CHECKING:
    from reconciler.adapters.mlflow import MlflowWorkspace

# Before any adapter imports databricks-sdk: only the services used are loaded (sdk_import).
sdk_import.defer()


def sandbox_state_dir(project: Project, target: Target) -> Path:
    """``state_dir`` of the target (relative to the project root), else .reconciler/sandbox:
    created and checked writable, errors located at ``state_dir``."""
    name = next(n for n, t in project.targets.items() if t is target or t == target)
    return prepare_state_dir(project, name)


@contextmanager
def open_workspace(project: Project, target_name: str) -> Iterator[Workspace]:
    """The live system behind a target, closed (and an in-process sandbox stopped) on exit."""
    name, target = select_target(project, target_name)
    workspace = _open(project, name, target)
    try:
        yield workspace
    finally:
        workspace.close()


def _open(project: Project, name: str, target: Target) -> Workspace:
    if target.type is TargetType.MLFLOW:
        return mlflow_workspace(project, name, target)
    if target.type not in (TargetType.SANDBOX, TargetType.DATABRICKS):
        raise WorkspaceError(f"target {name!r}: unknown type {target.type!r}")
    # Lazy: databricks-sdk takes seconds to import; --help and validate never need it.
    from reconciler.adapters.databricks.client import ClientSettings, sandbox_client, target_client
    from reconciler.adapters.databricks.workspace import DatabricksWorkspace

    if target.type is TargetType.DATABRICKS:
        client = target_client(target, name=name)
        return DatabricksWorkspace(client, max_concurrency=target.max_concurrency)
    config = SandboxConfig()
    config.faults.rate_limit = target.rate_limit
    config.faults.latency_ms = target.latency_ms or 0.0
    try:
        config = config.with_env()  # RECONCILER_SANDBOX_* win over the project file
        check_operations(config.faults.fail_operations)
    except ValueError as exc:
        raise WorkspaceError(f"target {name!r}: {exc}") from None
    server = SandboxServer(sandbox_state_dir(project, target), config=config)
    try:
        server.start()
    except OSError as exc:
        raise WorkspaceError(
            f"target {name!r}: cannot start the sandbox: {exc}",
            hint="is another 'reconciler sandbox serve' using the same state directory?",
        ) from None
    try:
        client = sandbox_client(server.url, ClientSettings.for_target(target))
    except BaseException:
        server.stop()
        raise
    return DatabricksWorkspace(client, max_concurrency=target.max_concurrency, on_close=server.stop)


def mlflow_workspace(project: Project, name: str, target: Target) -> MlflowWorkspace:
    """The adapter of an ``mlflow`` target, its host checked against the allowlist first
    (also used by ``sandbox seed``, which writes versions there)."""
    # Lazy: MLflow and the host check (databricks-sdk) take seconds to import.
    from reconciler.adapters.hosts import check_mlflow_registry
    from reconciler.adapters.mlflow import MlflowWorkspace

    check_mlflow_registry(target.tracking_uri, where=f"target {name!r}")
    return MlflowWorkspace.for_target(project, target, name)


__all__ = ["mlflow_workspace", "open_workspace", "sandbox_state_dir"]
