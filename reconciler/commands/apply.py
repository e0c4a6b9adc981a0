"""``apply`` as a library call: lock the target, plan (and, for a saved plan, check that the
fresh plan is exactly the saved one), refuse what is unsafe, confirm, execute. The CLI only
parses flags and renders around this."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from reconciler.adapters import open_workspace, sandbox_state_dir
from reconciler.apply.executor import execute
from reconciler.apply.lock import FileLock
from reconciler.apply.provenance import git_commit
from reconciler.apply.safety import check_destructive
from reconciler.commands.plan import make_plan
from reconciler.manifest.source import SourceTree
from reconciler.model.changes import Plan
from reconciler.model.errors import ApplyError
from reconciler.model.live import Workspace
from reconciler.plan.exact import check_exact, check_identity
from reconciler.plan.planfile import load
from reconciler.project import Project, Target, TargetType, select_target
from reconciler.runtime.context import ProgressSink
from reconciler.runtime.result import ApplyResult
from reconciler.runtime.settings import ApplySettings

LOCAL_POLL = {"poll_initial": 0.05, "poll_max": 0.5}
"""The sandbox settles in (milli)seconds; real workspaces in minutes (the defaults)."""


@dataclass(frozen=True)
class ApplyRequest:
    target: str | None = None
    plan_file: Path | None = None
    allow_delete: bool = False
    lock_timeout: float = 0.0
    settings: ApplySettings = dataclasses.field(default_factory=ApplySettings)
    source: SourceTree | None = None
    """Where the manifests are read from (``--ref``: a git revision); None: the working tree."""


@dataclass
class ApplyRun:
    """What happened: the plan applied (None when refused before) and the result."""

    target: str
    plan: Plan | None = None
    result: ApplyResult | None = None


def local_lock(project: Project, name: str, target: Target, timeout: float) -> FileLock:
    """Sandbox: in its state directory. MLflow: beside the project's other local state."""
    if target.type is TargetType.SANDBOX:
        path = sandbox_state_dir(project, target) / "apply.lock"
    else:
        path = project.root / ".reconciler" / "locks" / f"{name}.lock"
    return FileLock(path, target=name, timeout=timeout)


def workspace_lock(
    workspace: Workspace, project: Project, name: str, timeout: float
) -> AbstractContextManager[object]:
    # Lazy: databricks-sdk takes seconds to import; --help and validate never need it.
    from reconciler.apply.workspace_lock import WorkspaceLock

    client = getattr(workspace, "client", None)
    if client is None or not hasattr(client, "api_client") or not hasattr(client, "workspace"):
        raise ApplyError(f"target {name!r}: the workspace adapter exposes no Databricks client")
    return WorkspaceLock(client, project=project.project, target=name, timeout=timeout)


@contextmanager
def locked_workspace(
    project: Project,
    name: str,
    target: Target,
    lock_timeout: float,
    before_lease: Callable[[Workspace], None] | None = None,
) -> Iterator[Workspace]:
    """The target's workspace, with the apply lock held for as long as it is open.

    A Databricks target's lock is a lease file written to the workspace: ``before_lease`` runs
    on the open workspace before it is taken (so a refusal writes nothing at all). Local locks
    (sandbox, MLflow) write nothing to the workspace and are taken first."""
    with ExitStack() as stack:
        if target.type is not TargetType.DATABRICKS:
            stack.enter_context(local_lock(project, name, target, lock_timeout))
        workspace = stack.enter_context(open_workspace(project, name))
        if target.type is TargetType.DATABRICKS:
            if before_lease is not None:
                before_lease(workspace)
            stack.enter_context(workspace_lock(workspace, project, name, lock_timeout))
        yield workspace


def _check_before_lease(
    saved: Plan, project: Project, name: str, request: ApplyRequest, workspace: Workspace
) -> None:
    """A Databricks target: a plan file that differs is refused before the lease is written
    (planned again under the lease, since the workspace may move in between)."""
    first = make_plan(project, name, source=request.source, workspace=workspace)
    check_exact(saved, first.plan, str(request.plan_file))


def run_apply(
    project: Project,
    request: ApplyRequest,
    *,
    show: Callable[[Plan], None],
    confirm: Callable[[Plan], bool],
    progress: Callable[[Plan], AbstractContextManager[ProgressSink]],
) -> ApplyRun:
    """Apply the project's manifests (or ``request.plan_file``) to the target.

    ``show`` prints the plan (what each destructive change loses included); destructive plans
    are then refused unless allowed, before any write; ``confirm`` is asked last. Neither is
    called for a saved plan: it was shown and reviewed when it was made, and it is applied only
    when planning again under the lock gives exactly it (``reconciler.plan.exact``); what runs
    is that fresh plan, which holds the real secret references the file only seals.
    """
    name, target = select_target(project, request.target)
    saved = load(request.plan_file) if request.plan_file is not None else None
    source = str(request.plan_file)
    before_lease: Callable[[Workspace], None] | None = None
    if saved is not None:
        check_identity(saved, project.project, name, source)
        before_lease = functools.partial(_check_before_lease, saved, project, name, request)

    with locked_workspace(project, name, target, request.lock_timeout, before_lease) as workspace:
        fresh = make_plan(project, name, source=request.source, workspace=workspace)
        plan = fresh.plan
        if saved is not None:
            check_exact(saved, plan, source)
        run = ApplyRun(target=name, plan=plan)
        if plan.empty:
            return run
        if saved is None:
            show(plan)
        check_destructive(plan, target, allow_delete=request.allow_delete)
        if saved is None and not confirm(plan):
            raise ApplyError("apply cancelled; nothing was applied")
        settings = request.settings
        overrides: dict[str, object] = {
            "project": project.project,
            # The run's per-kind timeouts over the target's.
            "timeouts": {**{str(k): v for k, v in target.timeouts.items()}, **settings.timeouts},
        }
        if settings.commit is None:
            overrides["commit"] = git_commit(project.root)
        if target.type is TargetType.SANDBOX:
            overrides.update(LOCAL_POLL)
        settings = dataclasses.replace(settings, **overrides)  # type: ignore[arg-type]
        workspace.prepare_writes()
        with progress(plan) as sink:
            run.result = execute(plan, workspace, fresh.live, settings=settings, progress=sink)
        return run
