"""Adaptive concurrency for reads (AIMD, as TCP does), and a meter of the HTTP calls made.

Reads fan out over a thread pool; the limiter decides how many calls are in flight:

* it starts moderate (``INITIAL``) and, until the workspace first answers 429, adds one call
  per clean answer (the window doubles every round trip, TCP's slow start), up to the ceiling;
* on 429 it halves, once per throttling episode (the other calls already in flight when the
  first 429 came back do not halve it again), and no new call starts before ``Retry-After``
  has passed: one 429 pauses every thread, not only the one that got it (the SDK itself
  sleeps ``Retry-After`` and retries that call inside ``api_client.do``);
* after a 429 it grows additively again, by one call per ``limit`` clean answers (one per
  round trip).

A window of calls in flight does not bound the rate of a fast workspace (at 50 ms a call,
two calls in flight are already 40 calls/s): so a 429 also sets a *pace*, the rate the
workspace admitted in the second before it (the clean answers of that second, 95% of them),
and call starts are spaced by ``1 / pace`` from then on. The pace grows slowly near the rate
that was throttled (it finds a raised limit without knocking against the old one) and faster
well below it. Every response is seen, retries inside the SDK included: the meter hooks the
SDK's ``requests`` session.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any

import requests

THROTTLED = 429
INITIAL = 8
"""Calls in flight at the start, before the workspace has answered anything."""
DEFAULT_MAXIMUM = 64
"""The default ceiling (``--max-concurrency``, ``max_concurrency`` on a target)."""
PACE_SHARE = 0.95
"""The share of the rate admitted in the second before a 429 that the pace is set to."""
PACE_NEAR = 0.25
"""Calls/s added to the pace per second of clean answers near the throttled rate..."""
PACE_FAR = 2.0
"""...and well below it (under 80% of it)."""
DEFAULT_RETRY_AFTER = 1.0
"""What the SDK assumes when a 429 carries no integer ``Retry-After``."""


class AdaptiveLimiter:
    """How many read calls may be in flight, and when the next may start (thread-safe)."""

    def __init__(
        self,
        maximum: int = DEFAULT_MAXIMUM,
        *,
        initial: int = INITIAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.maximum = max(1, maximum)
        self.limit = max(1, min(self.maximum, initial))
        self.in_flight = 0
        self.throttled = 0
        """429 answers seen (retries included)."""
        self.cuts = 0
        """Times the limit was halved (once per throttling episode)."""
        self.pace: float | None = None
        """Call starts per second once the workspace has throttled (None: unpaced)."""
        self.peak = self.limit
        self.clock = clock
        self._slow_start = True
        self._streak = 0
        self._resume_at = -math.inf
        self._next_start = -math.inf
        self._episode_at = -math.inf
        self._throttled_rate = 0.0
        self._started_at: float | None = None
        self._clean: deque[float] = deque()
        self._cond = threading.Condition()

    # --- admission -------------------------------------------------------------------

    def _wait_for(self, now: float) -> float | None:
        """Seconds until a call may start (0: now; None: when a call in flight ends)."""
        if self.in_flight >= self.limit:
            return None
        return max(0.0, self._resume_at - now, self._next_start - now)

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._cond:
            while True:
                now = self.clock()
                delay = self._wait_for(now)
                if delay == 0.0:
                    break
                self._cond.wait(delay)
            self.in_flight += 1
            if self._started_at is None:
                self._started_at = now
            if self.pace is not None:
                self._next_start = max(now, self._next_start) + 1.0 / self.pace
        try:
            yield
        finally:
            with self._cond:
                self.in_flight -= 1
                self._cond.notify_all()

    # --- feedback ----------------------------------------------------------------------

    def on_response(
        self, status: int, retry_after: float | None = None, sent_at: float | None = None
    ) -> None:
        """One HTTP answer: ``retry_after`` in seconds (429), ``sent_at`` on this clock."""
        with self._cond:
            now = self.clock()
            if status == THROTTLED:
                wait = DEFAULT_RETRY_AFTER if retry_after is None else retry_after
                self._throttle(now, wait, sent_at)
            elif status < 400 or status == 404:
                self._grow(now)
            self._cond.notify_all()

    def _throttle(self, now: float, retry_after: float, sent_at: float | None) -> None:
        self.throttled += 1
        self._resume_at = max(self._resume_at, now + max(0.0, retry_after))
        if sent_at is not None and sent_at < self._episode_at:
            return  # in flight before this episode's first 429: it already counted
        self._episode_at = now
        self.cuts += 1
        self.limit = max(1, self.limit // 2)
        self._slow_start = False
        self._streak = 0
        admitted = self._admitted_rate(now)
        if admitted > 0:
            self._throttled_rate = admitted
            self.pace = max(1.0, PACE_SHARE * admitted)
            self._next_start = self._resume_at

    def _admitted_rate(self, now: float) -> float:
        """Clean answers per second over the last second (or since the first call, when that
        is shorter: a second the read has not lived yet admitted nothing)."""
        while self._clean and self._clean[0] <= now - 1.0:
            self._clean.popleft()
        lived = now - (self._started_at if self._started_at is not None else now)
        return len(self._clean) / min(1.0, max(lived, 0.05))

    def _grow(self, now: float) -> None:
        self._clean.append(now)
        if len(self._clean) > 4096:
            self._clean.popleft()
        self._streak += 1
        if self._slow_start or self._streak >= self.limit:
            if self.limit < self.maximum:
                self.limit += 1
                self.peak = max(self.peak, self.limit)
            self._streak = 0
        if self.pace is not None:
            step = PACE_NEAR if self.pace >= 0.8 * self._throttled_rate else PACE_FAR
            self.pace += step / self.pace


def retry_after_of(response: requests.Response) -> float | None:
    """``Retry-After`` in whole seconds, as the SDK reads it (None when absent or a date)."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return float(int(value))
    except ValueError:
        return None


class CallMeter:
    """Counts responses on an SDK session (its own retries included) and feeds the limiter."""

    def __init__(self, limiter: AdaptiveLimiter) -> None:
        self.limiter = limiter
        self.calls = 0
        self.failed = 0
        """Answers with a status of 400 or more (429s included)."""
        self._lock = threading.Lock()

    def hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        with self._lock:
            self.calls += 1
            if response.status_code >= 400:
                self.failed += 1
        elapsed = response.elapsed.total_seconds() if response.elapsed is not None else None
        sent_at = self.limiter.clock() - elapsed if elapsed is not None else None
        self.limiter.on_response(response.status_code, retry_after_of(response), sent_at)

    def attach(self, session: requests.Session | None) -> None:
        if session is not None:
            hooks = session.hooks.setdefault("response", [])
            if self.hook not in hooks:
                hooks.append(self.hook)


class Pool:
    """Runs read tasks concurrently under the limiter; the first failure is re-raised."""

    def __init__(self, limiter: AdaptiveLimiter, workers: int | None = None) -> None:
        self.limiter = limiter
        self.workers = max(1, workers if workers is not None else limiter.maximum)

    def run(self, tasks: Sequence[Callable[[], None]]) -> None:
        if not tasks:
            return

        def guarded(task: Callable[[], None]) -> None:
            with self.limiter.slot():
                task()

        if self.workers == 1 or len(tasks) == 1:
            for task in tasks:
                guarded(task)
            return
        with ThreadPoolExecutor(max_workers=min(self.workers, len(tasks))) as pool:
            futures: list[Future[None]] = [pool.submit(guarded, t) for t in tasks]
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            for future in pending:
                future.cancel()
            for future in done:
                error = future.exception()
                if error is not None:
                    raise error
