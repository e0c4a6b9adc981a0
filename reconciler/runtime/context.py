"""The per-thread context of a running change: settings, the work slot, progress, deadline.

Adapters' write calls run inside the executor's worker threads. They find the run's settings
and report waits through this module, so the Workspace boundary stays ``apply_change(change,
live)``. A change holds one of ``parallelism`` work slots while it calls the API and gives it
back while it only waits for the workspace to settle: waits of many assets overlap without
widening the burst of writes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from reconciler.model.changes import Change
from reconciler.model.errors import ApplyError
from reconciler.runtime.result import ChangeResult
from reconciler.runtime.settings import ApplySettings


class ProgressSink(Protocol):
    """Receives what each change is doing; the terminal display and the log lines implement it."""

    def started(self, change: Change) -> None: ...

    def waiting(self, change: Change, what: str) -> None: ...

    def resumed(self, change: Change) -> None: ...

    def finished(self, result: ChangeResult) -> None: ...


class NullProgress:
    def started(self, change: Change) -> None:
        pass

    def waiting(self, change: Change, what: str) -> None:
        pass

    def resumed(self, change: Change) -> None:
        pass

    def finished(self, result: ChangeResult) -> None:
        pass


@dataclass
class ChangeContext:
    """What one worker thread knows about the change it runs."""

    change: Change
    settings: ApplySettings
    slots: threading.Semaphore
    progress: ProgressSink
    deadline: float
    timeout: float = 0.0
    """The change's own timeout in seconds (what ``deadline`` was computed from), for messages."""
    cancelled: threading.Event = field(default_factory=threading.Event)
    wait_depth: int = 0

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


_local = threading.local()


def current() -> ChangeContext | None:
    found: ChangeContext | None = getattr(_local, "context", None)
    return found


def current_settings() -> ApplySettings:
    ctx = current()
    return ctx.settings if ctx is not None else ApplySettings()


@contextmanager
def running(ctx: ChangeContext) -> Iterator[ChangeContext]:
    """Bind ``ctx`` to this thread while holding a work slot."""
    ctx.slots.acquire()
    _local.context = ctx
    try:
        ctx.progress.started(ctx.change)
        yield ctx
    finally:
        _local.context = None
        ctx.slots.release()


@contextmanager
def waiting(what: str) -> Iterator[None]:
    """Give the work slot back while waiting on the workspace (no writes inside).

    Nested waits (a throttled poll inside a readiness wait) release the slot once.
    """
    ctx = current()
    if ctx is None or ctx.wait_depth > 0 or not ctx.settings.overlap_waits:
        yield
        return
    ctx.wait_depth += 1
    ctx.slots.release()
    ctx.progress.waiting(ctx.change, what)
    try:
        yield
    finally:
        ctx.slots.acquire()
        ctx.wait_depth -= 1
        ctx.progress.resumed(ctx.change)


def check_deadline(what: str) -> float:
    """Seconds left for the current change; raises once its time is up or apply was stopped."""
    ctx = current()
    if ctx is None:
        return float("inf")
    if ctx.cancelled.is_set():
        raise ApplyError("apply was stopped", address=ctx.change.address)
    left = ctx.remaining()
    if left <= 0:
        kind = ctx.change.kind
        raise ApplyError(
            f"timed out after {ctx.timeout:.0f}s while {what}",
            address=ctx.change.address,
            hint=f"raise the timeout of {kind} changes (--change-timeout {kind}=DURATION, or"
            " timeouts: in the target), or re-run apply: it continues from what is live",
        )
    return left


def time_left() -> float:
    """Seconds left for the current change (infinite outside one); never raises."""
    ctx = current()
    return float("inf") if ctx is None else ctx.remaining()


def sleep(seconds: float) -> None:
    """Sleep, waking early when apply is stopped."""
    ctx = current()
    if ctx is None:
        time.sleep(seconds)
        return
    ctx.cancelled.wait(max(0.0, min(seconds, ctx.remaining())))
