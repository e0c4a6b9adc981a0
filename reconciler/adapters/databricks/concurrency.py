"""Bounded, adaptive concurrency for reads, and a meter of the HTTP calls made.

Reads fan out over a thread pool, but at most ``limit`` calls are in flight. When the workspace
answers 429 the limit halves (the SDK already waits ``Retry-After`` and retries that call); each
run of successes afterwards lets it grow back by one, up to the configured maximum.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any

import requests

THROTTLED = 429


class AdaptiveLimiter:
    def __init__(self, maximum: int) -> None:
        self.maximum = max(1, maximum)
        self.limit = self.maximum
        self.in_flight = 0
        self.throttled = 0
        self._streak = 0
        self._cond = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[None]:
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

    def on_response(self, status: int) -> None:
        with self._cond:
            if status == THROTTLED:
                self.throttled += 1
                self.limit = max(1, self.limit // 2)
                self._streak = 0
                return
            self._streak += 1
            if self.limit < self.maximum and self._streak >= self.limit:
                self.limit += 1
                self._streak = 0
                self._cond.notify_all()


class CallMeter:
    """Counts responses on an SDK session (retries included) and feeds the limiter."""

    def __init__(self, limiter: AdaptiveLimiter) -> None:
        self.limiter = limiter
        self.calls = 0
        self._lock = threading.Lock()

    def hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        with self._lock:
            self.calls += 1
        self.limiter.on_response(response.status_code)

    def attach(self, session: requests.Session | None) -> None:
        if session is not None:
            hooks = session.hooks.setdefault("response", [])
            if self.hook not in hooks:
                hooks.append(self.hook)


class Pool:
    """Runs read tasks concurrently under the limiter; the first failure is re-raised."""

    def __init__(self, limiter: AdaptiveLimiter, workers: int) -> None:
        self.limiter = limiter
        self.workers = max(1, workers)

    def run(self, tasks: Sequence[Callable[[], None]]) -> None:
        if not tasks:
            return
        if self.workers == 1 or len(tasks) == 1:
            for task in tasks:
                with self.limiter.slot():
                    task()
            return

        def guarded(task: Callable[[], None]) -> None:
            with self.limiter.slot():
                task()

        with ThreadPoolExecutor(max_workers=min(self.workers, len(tasks))) as pool:
            futures: list[Future[None]] = [pool.submit(guarded, t) for t in tasks]
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            for future in pending:
                future.cancel()
            for future in done:
                error = future.exception()
                if error is not None:
                    raise error
