"""Who holds an apply lock, and whether that process still exists.

A lease in the workspace outlives a killed apply: nothing releases it but its expiry. When the
holder ran on this machine, we can do better and ask the kernel: a pid that is gone, a zombie,
or a pid now used by a process started at another time means the holder is dead, and its lease
can be taken over at once. "This machine" is the hostname plus, on Linux, the boot id and pid
namespace (``pid_scope``): containers sharing a hostname but not a pid namespace can never
mistake each other's live apply for a dead one. A holder elsewhere (another host, another
namespace, a lease from an older version) cannot be checked: it keeps its lease until expiry,
or until ``reconciler unlock`` releases it.
"""

from __future__ import annotations

import getpass
import json
import math
import os
import socket
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path


class Liveness(StrEnum):
    ALIVE = "alive"
    DEAD = "dead"
    UNKNOWN = "unknown"
    """On another host (or pid namespace): the kernel here cannot tell."""


@dataclass(frozen=True)
class Holder:
    """Who holds a lock: shown to whoever waits for it, and checked for liveness."""

    holder: str
    host: str
    pid: int
    since: str
    token: str
    expires: str | None = None
    ci_run: str | None = None
    pid_scope: str | None = None
    """Where ``pid`` means this process: boot id and pid namespace (Linux), else ''."""
    started: str | None = None
    """The process's start time (clock ticks after boot, Linux), to notice a reused pid."""

    @classmethod
    def me(cls, *, expires_in: float | None = None) -> Holder:
        now = datetime.now(UTC)
        expires = None
        if expires_in is not None:
            expires = datetime.fromtimestamp(now.timestamp() + expires_in, UTC).isoformat()
        run = os.environ.get("GITHUB_RUN_ID")
        repo = os.environ.get("GITHUB_REPOSITORY")
        stat = process_stat(os.getpid())
        return cls(
            holder=_user(),
            host=socket.gethostname(),
            pid=os.getpid(),
            since=now.isoformat(timespec="seconds"),
            token=uuid.uuid4().hex,
            expires=expires,
            ci_run=f"{repo}/actions/runs/{run}" if run and repo else None,
            pid_scope=pid_scope(),
            started=stat[1] if stat is not None else None,
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
        where = f"{self.holder} on {self.host} (pid {self.pid}) since {moment(self.since)}"
        if self.ci_run:
            where += f", CI run {self.ci_run}"
        return where

    def expiry(self, now: datetime | None = None) -> str:
        """``the lease expires at 2026-01-12 10:19:55 UTC (in 14 min)``, or '' without one."""
        if self.expires is None:
            return ""
        at = datetime.fromisoformat(self.expires)
        seconds = (at - (now or datetime.now(UTC))).total_seconds()
        if seconds < 0:
            return f"the lease expired at {moment(self.expires)} ({_span(-seconds)} ago)"
        return f"the lease expires at {moment(self.expires)} (in {_span(seconds)})"

    def liveness(self) -> tuple[Liveness, str]:
        """Whether the holder's process still runs, and why we think so (for messages)."""
        if self.host != socket.gethostname():
            return (
                Liveness.UNKNOWN,
                f"held on {self.host}, not this host: its pid cannot be checked",
            )
        if self.pid_scope != pid_scope():
            return Liveness.UNKNOWN, (
                f"held on {self.host} in another container, boot or older version: its pid"
                " cannot be checked"
            )
        if self.pid == os.getpid():
            return Liveness.ALIVE, f"pid {self.pid} is still running on {self.host} (this process)"
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return Liveness.DEAD, f"pid {self.pid} is no longer running on {self.host}"
        except PermissionError:
            pass  # it exists, under another user
        stat = process_stat(self.pid)
        if stat is not None:
            state, started = stat
            if state in ("Z", "X"):
                return Liveness.DEAD, f"pid {self.pid} has exited on {self.host}"
            if self.started is not None and started != self.started:
                return Liveness.DEAD, f"pid {self.pid} on {self.host} is now another process"
        return Liveness.ALIVE, f"pid {self.pid} is still running on {self.host}"


def moment(iso: str) -> str:
    """An ISO time as people read it: ``2026-01-12 10:04:55 UTC``."""
    try:
        at = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _span(seconds: float) -> str:
    if seconds < 60:
        return f"{math.ceil(seconds)} s"
    return f"{math.ceil(seconds / 60)} min"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@lru_cache(maxsize=1)
def pid_scope() -> str:
    """Boot id and pid namespace: two processes with equal scopes see the same pids."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""  # no /proc (macOS): no pid namespaces either; the hostname decides
    return f"{boot}/{namespace}"


def process_stat(pid: int) -> tuple[str, str] | None:
    """``(state, start time)`` of a process from ``/proc/<pid>/stat``; None without /proc."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses; fields follow the
    # last ')'. The start time is field 22, the 20th after the state.
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], fields[19]
