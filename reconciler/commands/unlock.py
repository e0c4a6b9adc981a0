"""``unlock`` as a library call: release a target's apply lock, saying who held it.

Like ``terraform force-unlock``, for the one case the locks cannot recover from on their own: a
Databricks lease left by an apply that died on another machine (a CI runner that was killed)
blocks the target until the lease expires. A holder still running on this host is refused
unless forced. Local targets' locks are released by the kernel when their process exits, so
there the command only reports, or (``force``) removes the lock file of a running holder.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.adapters import open_workspace
from reconciler.apply.holder import Holder
from reconciler.commands.apply import local_lock, workspace_lock
from reconciler.model.errors import ApplyError
from reconciler.project import Project, TargetType, select_target


@dataclass(frozen=True)
class Unlocked:
    """What ``unlock`` found and did."""

    target: str
    lock: str
    """Where the lock lives: the lease path in the workspace, or the lock file."""
    released: bool
    holder: Holder | None = None
    """Who held it (None: free, or an unreadable lease)."""
    note: str = ""
    """Why releasing was safe or what was found (the holder's liveness)."""

    def lines(self) -> list[str]:
        if not self.released:
            line = f"Target {self.target!r} is not locked ({self.lock})."
            return [line, self.note] if self.note else [line]
        who = self.holder.describe() if self.holder is not None else "an unknown holder"
        out = [f"Released the apply lock of target {self.target!r} ({self.lock})."]
        out.append(f"It was held by {who}.")
        if self.holder is not None and self.holder.expires:
            out.append(f"Without unlock, {self.holder.expiry()}.")
        if self.note:
            out.append(f"({self.note})")
        return out


def unlock_target(project: Project, target_name: str | None, *, force: bool = False) -> Unlocked:
    """Release the apply lock of a target; ApplyError for a live local holder (unforced)."""
    name, target = select_target(project, target_name)
    if target.type is TargetType.DATABRICKS:
        return _unlock_lease(project, name, force=force)
    return _unlock_file(project, name, force=force)


def _unlock_lease(project: Project, name: str, *, force: bool) -> Unlocked:
    # Lazy: databricks-sdk takes seconds to import; local targets never need it.
    from reconciler.apply.workspace_lock import WorkspaceLock

    with open_workspace(project, name) as workspace:
        lock = workspace_lock(workspace, project, name, 0.0)
        assert isinstance(lock, WorkspaceLock)
        found = lock.unlock(force=force)
    if found is None:
        return Unlocked(name, lock.path, released=False)
    holder, note = found
    return Unlocked(name, lock.path, released=True, holder=holder, note=note)


def _unlock_file(project: Project, name: str, *, force: bool) -> Unlocked:
    target = project.targets[name]
    lock = local_lock(project, name, target, 0.0)
    held, holder = lock.status()
    shown = str(lock.path)
    if not held:
        note = ""
        if holder is not None:
            note = f"The last holder, {holder.describe()}, has exited; its lock went with it."
        return Unlocked(name, shown, released=False, holder=holder, note=note)
    who = holder.describe() if holder is not None else "a running process"
    if not force:
        raise ApplyError(
            f"target {name!r} is locked by {who}, which is still running; not released",
            hint="a local lock is released when its process exits: wait for it or stop it;"
            " --force removes the lock file anyway (the running apply then goes on unlocked)",
        )
    lock.path.unlink(missing_ok=True)
    return Unlocked(
        name,
        shown,
        released=True,
        holder=holder,
        note="forced: the holder still runs; its lock file was removed",
    )
