"""One apply per target at a time.

Local targets (the sandbox, an MLflow registry on disk) use an ``fcntl`` lock on a file in the
state directory: the kernel drops it when the process dies, so a killed apply never leaves a
stale lock. Databricks targets keep the lock in the workspace itself (``workspace_lock.py``),
since two CI runners share nothing else. Both record who holds the lock, so a refused apply
can name the holder.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
import socket
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from reconciler.model.errors import ApplyError

POLL_SECONDS = 0.2


@dataclass(frozen=True)
class Holder:
    """Who holds a lock: shown to whoever waits for it."""

    holder: str
    host: str
    pid: int
    since: str
    token: str
    expires: str | None = None
    ci_run: str | None = None

    @classmethod
    def me(cls, *, expires_in: float | None = None) -> Holder:
        now = datetime.now(UTC)
        expires = None
        if expires_in is not None:
            expires = datetime.fromtimestamp(now.timestamp() + expires_in, UTC).isoformat()
        run = os.environ.get("GITHUB_RUN_ID")
        repo = os.environ.get("GITHUB_REPOSITORY")
        return cls(
            holder=_user(),
            host=socket.gethostname(),
            pid=os.getpid(),
            since=now.isoformat(timespec="seconds"),
            token=uuid.uuid4().hex,
            expires=expires,
            ci_run=f"{repo}/actions/runs/{run}" if run and repo else None,
        )

    @classmethod
    def from_json(cls, text: str) -> Holder | None:
        try:
            doc = json.loads(text)
            known = {k: doc[k] for k in cls.__dataclass_fields__ if k in doc}
            return cls(**known)
        except (ValueError, TypeError):
            return None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def expired(self) -> bool:
        if self.expires is None:
            return False
        return datetime.fromisoformat(self.expires) < datetime.now(UTC)

    def describe(self) -> str:
        where = f"{self.holder} on {self.host} (pid {self.pid}) since {self.since}"
        if self.ci_run:
            where += f", CI run {self.ci_run}"
        return where


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class TargetLock(Protocol):
    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def busy_error(target: str, holder: Holder | None, waited: float, where: str) -> ApplyError:
    who = holder.describe() if holder is not None else "another process"
    return ApplyError(
        f"target {target!r} is locked by {who}; waited {waited:.0f}s",
        hint=f"wait for that apply to finish, or raise --lock-timeout (lock: {where})",
    )


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

    def __exit__(self, *exc: Any) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None
