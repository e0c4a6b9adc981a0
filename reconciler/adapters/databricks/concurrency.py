"""Adaptive concurrency for reads (AIMD, as TCP does), and a meter of the HTTP calls made.

Reads fan out over a thread pool; the limiter decides how many read tasks run at once:

* it starts moderate (``INITIAL``) and, until the workspace first answers 429, adds one task
  per clean answer (the window doubles every round trip, TCP's slow start), up to the ceiling;
* on 429 it halves, once per throttling episode (calls already in flight when the first 429
  of the episode came back do not halve it again), and afterwards grows additively, by one
  per ``limit`` clean answers (one per round trip).

Two more rules hold for every HTTP request, the SDK's own retries included (the SDK sleeps
``Retry-After`` and retries a 429 inside ``api_client.do``): the meter mounts a gate on the
SDK's ``requests`` session, and each request passes it before it is sent.

* Retry-After is shared: after a 429 no request leaves before it has passed, from any thread.
* A window of tasks does not bound the rate of a fast workspace (at 50 ms a call, two calls
  in flight are already 40 calls/s). So a 429 also sets a *pace*: 95% of the requests the
  workspace admitted in the second before the refused one was sent (counted when the pause
  ends, once their answers are in), and requests leave ``1 / pace`` apart from then on. The
  pace grows slowly near the rate that was throttled (it finds a raised limit without
  knocking against the old one) and faster well below it. It is learned only once the read
  has run for a second: a 429 in the first moments says nothing about a rate.
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
from requests.adapters import HTTPAdapter

THROTTLED = 429
INITIAL = 8
"""Read tasks at once at the start, before the workspace has answered anything."""
DEFAULT_MAXIMUM = 64
"""The default ceiling (``--max-concurrency``, ``max_concurrency`` on a target)."""
PACE_SHARE = 0.95
"""The share of the answers of the second before a 429 that the pace is set to."""
PACE_NEAR = 0.1
"""Requests/s added to the pace per second of clean answers near the throttled rate..."""
PACE_FAR = 2.0
"""...and well below it (under 80% of it)."""
WINDOW = 1.0
"""Seconds over which the admitted rate is measured."""
SENT_AT = "reconciler_sent_at"
DEFAULT_RETRY_AFTER = 1.0
"""What the SDK assumes when a 429 carries no integer ``Retry-After``."""


class AdaptiveLimiter:
    """How many read tasks may run at once, and when the next request may leave."""

    def __init__(
        self,
        maximum: int = DEFAULT_MAXIMUM,
        *,
        initial: int = INITIAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.maximum = max(1, maximum)
        self.limit = max(1, min(self.maximum, initial))
        self.peak = self.limit
        self.in_flight = 0
        self.throttled = 0
        """429 answers seen (the SDK's retries included)."""
        self.cuts = 0
        """Times the limit was halved (once per throttling episode)."""
        self.pace: float | None = None
        """Requests per second once the workspace has throttled (None: unpaced)."""
        self.clock = clock
        self._slow_start = True
        self._streak = 0
        self._resume_at = -math.inf
        self._next_send = -math.inf
        self._episode_at = -math.inf
        self._throttled_rate = 0.0
        self._first_send: float | None = None
        self._measure_at: float | None = None
        self._clean: deque[float] = deque()
        """When the requests that got clean answers were sent (the most recent 4096)."""
        self._cond = threading.Condition()

    # --- admission -------------------------------------------------------------------

    @contextmanager
    def slot(self) -> Iterator[None]:
        """One read task (which may make several requests, each through ``gate``)."""
        with self._cond:
            while self.in_flight >= self.limit:
                self._cond.wait()
            self.in_flight += 1
        try:
            yield
        finally:
            with self._cond:
                self.in_flight -= 1
                self._cond.notify_all()

    def gate(self) -> float:
        """Wait until a request may leave (the shared Retry-After, the pace); take its turn.
        Returns when it left, on ``clock``."""
        with self._cond:
            while True:
                now = self.clock()
                delay = max(self._resume_at - now, self._next_send - now)
                if delay <= 0:
                    break
                self._cond.wait(delay)
            if self._first_send is None:
                self._first_send = now
            if self._measure_at is not None:
                self._learn_pace(self._measure_at, now)
            if self.pace is not None:
                self._next_send = max(now, self._next_send) + 1.0 / self.pace
            return now

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
                self._grow(now if sent_at is None else sent_at)
            self._cond.notify_all()

    def _throttle(self, now: float, retry_after: float, sent_at: float | None) -> None:
        self.throttled += 1
        self._resume_at = max(self._resume_at, now + max(0.0, retry_after))
        if sent_at is not None and sent_at < self._episode_at:
            return  # sent before this episode's first 429 came back: already counted
        self._episode_at = now
        self.cuts += 1
        self.limit = max(1, self.limit // 2)
        self._slow_start = False
        self._streak = 0
        refused = now if sent_at is None else sent_at
        if self._first_send is not None and refused - self._first_send >= WINDOW:
            self._measure_at = refused  # the pace is learned when the pause ends (gate)

    def _learn_pace(self, refused: float, now: float) -> None:
        """The pace from the requests admitted in the second before ``refused`` was sent."""
        self._measure_at = None
        admitted = sum(1 for sent in self._clean if refused - WINDOW < sent <= refused)
        if admitted:
            self._throttled_rate = admitted / WINDOW
            self.pace = max(1.0, PACE_SHARE * self._throttled_rate)
            self._next_send = now

    def _grow(self, sent: float) -> None:
        self._clean.append(sent)
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


class GatedAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` (same pool settings as the one it replaces) whose every request first
    passes ``gate`` (and carries, as ``SENT_AT``, when it left it)."""

    def __init__(self, gate: Callable[[], float], like: HTTPAdapter) -> None:
        super().__init__(
            pool_connections=like._pool_connections,
            pool_maxsize=like._pool_maxsize,
            max_retries=like.max_retries,
            pool_block=like._pool_block,
        )
        self.gate = gate

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        sent = self.gate()
        response = super().send(request, *args, **kwargs)
        # For the meter: when the request left the gate, not when it was queued before it.
        setattr(response, SENT_AT, sent)
        return response


class CallMeter:
    """Counts responses on an SDK session (its own retries included), feeds the limiter, and
    gates each request on it."""

    def __init__(self, limiter: AdaptiveLimiter) -> None:
        self.limiter = limiter
        self.calls = 0
        self.refused = 0
        """Error answers (429s included), not counting 404: a read's answer for what is not
        there."""
        self._lock = threading.Lock()

    def hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        with self._lock:
            self.calls += 1
            if response.status_code >= 400 and response.status_code != 404:
                self.refused += 1
        sent_at: float | None = getattr(response, SENT_AT, None)
        if sent_at is None and response.elapsed is not None:
            sent_at = self.limiter.clock() - response.elapsed.total_seconds()
        self.limiter.on_response(response.status_code, retry_after_of(response), sent_at)

    def attach(self, session: requests.Session | None) -> None:
        if session is None:
            return
        hooks = session.hooks.setdefault("response", [])
        if self.hook not in hooks:
            hooks.append(self.hook)
        for prefix, adapter in list(session.adapters.items()):
            if isinstance(adapter, HTTPAdapter) and not isinstance(adapter, GatedAdapter):
                session.mount(prefix, GatedAdapter(self.limiter.gate, adapter))


class Pool:
    """Runs read tasks concurrently under the limiter; the first failure is re-raised. Its
    threads are started once, on the first run with more than one task, and live until
    ``close``: a read runs in several rounds, and a plan reads twice."""

    def __init__(self, limiter: AdaptiveLimiter, workers: int | None = None) -> None:
        self.limiter = limiter
        self.workers = max(1, workers if workers is not None else limiter.maximum)
        self._executor: ThreadPoolExecutor | None = None

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
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="read")
        futures: list[Future[None]] = [self._executor.submit(guarded, t) for t in tasks]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        for future in done:
            error = future.exception()
            if error is not None:
                wait(pending)  # nothing of this read still runs once it has failed
                raise error

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
