"""One apply per target at a time.

Local targets (the sandbox, an MLflow registry on disk) use an ``fcntl`` lock on a file in the
state directory: the kernel drops it when the process dies, so a killed apply never leaves a
stale lock. Databricks targets keep the lock in the workspace itself (``workspace_lock.py``),
since two CI runners share nothing else. Both record who holds the lock, so a refused apply
can name the holder.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from reconciler.apply.holder import Holder
from reconciler.model.errors import ApplyError

__all__ = ["POLL_SECONDS", "FileLock", "Holder", "TargetLock", "busy_error"]

POLL_SECONDS = 0.2


class TargetLock(Protocol):
    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def busy_error(
    target: str, holder: Holder | None, waited: float, where: str, *, lease: bool = False
) -> ApplyError:
    """Who holds the lock, until when (a lease), and what the user can do about it."""
    if holder is None:
        return ApplyError(
            f"target {target!r} is locked, and the lock does not say by whom; waited {waited:.0f}s",
            hint=f"if no apply is running, release it: reconciler unlock -t {target}"
            f" (lock: {where})",
        )
    parts = [f"target {target!r} is locked by {holder.describe()}"]
    if lease:
        parts.append(holder.expiry())
    else:
        parts.append("held until that process exits")
    parts.append(f"waited {waited:.0f}s")
    hint = "wait for that apply to finish, or pass --lock-timeout SECONDS to wait for it"
    if lease:
        hint += f"; if it died on another host: reconciler unlock -t {target}"
    return ApplyError("; ".join(p for p in parts if p), hint=f"{hint} (lock: {where})")


class FileLock:
    """An exclusive ``flock`` on ``path``; the file keeps the holder's description."""

    def __init__(self, path: Path, *, target: str, timeout: float = 0.0) -> None:
        self.path = path
        self.target = target
        self.timeout = timeout
        self._fd: int | None = None

    def __enter__(self) -> Self:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        started = time.monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - started
                if waited >= self.timeout:
                    holder = Holder.from_json(self.path.read_text() or "")
                    os.close(fd)
                    raise busy_error(self.target, holder, waited, str(self.path)) from None
                time.sleep(min(POLL_SECONDS, self.timeout - waited))
        os.ftruncate(fd, 0)
        os.pwrite(fd, Holder.me().to_json().encode(), 0)
        self._fd = fd
        return self

    def status(self) -> tuple[bool, Holder | None]:
        """Whether a running process holds the lock now (the kernel knows), and the holder
        the file names (after a killed apply: the dead one, with the lock free)."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return False, None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                held = True
            else:
                held = False
                fcntl.flock(fd, fcntl.LOCK_UN)
            return held, Holder.from_json(self.path.read_text() or "")
        finally:
            os.close(fd)

    def __exit__(self, *exc: Any) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None
