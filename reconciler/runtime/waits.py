"""Polling a long-running operation until the asset settles, without holding a work slot."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from reconciler.model.errors import ApplyError
from reconciler.runtime import context, retry
from reconciler.runtime.context import current_settings

T = TypeVar("T")
DEFAULT_WAIT = 20 * 60.0
"""How long a wait outside any change (no deadline of its own) may take."""


def poll_until(
    read: Callable[[], T],
    settled: Callable[[T], bool],
    *,
    what: str,
    address: str,
    failed: Callable[[T], str | None] | None = None,
    describe: Callable[[T], str] | None = None,
    timeout: float | None = None,
) -> T:
    """Read until ``settled``; ``failed`` returning a message ends the wait as a failure.

    Each read goes through the retry policy, so a throttled poll is not a failed wait. The
    timeout is ``timeout`` or what is left of the change's own budget, whichever ends first.
    """
    settings = current_settings()
    started = time.monotonic()
    # Within apply the change's deadline bounds the wait; a bare call gets the default.
    own = float("inf") if context.current() is not None else DEFAULT_WAIT
    limit = timeout if timeout is not None else own
    interval = settings.poll_initial

    def observe() -> tuple[T, bool]:
        value = retry.call(read, what=f"reading status while {what}")
        if failed is not None and (message := failed(value)) is not None:
            raise ApplyError(f"{what} failed: {message}", address=address)
        return value, settled(value)

    last, done = observe()
    if done:
        return last
    with context.waiting(what):
        while not done:
            elapsed = time.monotonic() - started
            left = min(limit - elapsed, context.check_deadline(what))
            if left <= 0:
                status = describe(last) if describe is not None else "not settled"
                raise ApplyError(
                    f"timed out after {elapsed:.0f}s {what} (last status: {status})",
                    address=address,
                    hint="raise the timeout of this kind (--change-timeout KIND=DURATION), or"
                    " re-run apply: it continues from what is live",
                )
            context.sleep(min(interval, left))
            interval = min(settings.poll_max, interval * settings.poll_factor)
            last, done = observe()
    return last
