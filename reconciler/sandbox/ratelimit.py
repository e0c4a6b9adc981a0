"""A workspace's API rate limit: at most N requests admitted in any one-second window.

Databricks limits API calls per workspace and answers the excess with 429
``REQUEST_LIMIT_EXCEEDED`` and an integer ``Retry-After``. A sliding window (the times of the
admitted requests) is exact: no burst above the limit, as a token bucket would allow.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """Admits at most ``capacity`` requests per ``window`` seconds (``per_second`` on average).

    A fractional rate below one per second admits one request per ``1 / per_second`` seconds.
    """

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not per_second > 0:
            raise ValueError("the rate limit must be above 0")
        self.per_second = per_second
        self.capacity = max(1, math.floor(per_second))
        self.window = self.capacity / per_second
        self._clock = clock
        self._admitted: deque[float] = deque()
        self._lock = threading.Lock()
        self.rejected = 0

    def admit(self) -> int | None:
        """None when the request is admitted, else the whole seconds to wait (Retry-After)."""
        with self._lock:
            now = self._clock()
            while self._admitted and self._admitted[0] <= now - self.window:
                self._admitted.popleft()
            if len(self._admitted) < self.capacity:
                self._admitted.append(now)
                return None
            self.rejected += 1
            wait = self._admitted[0] + self.window - now
            return max(1, math.ceil(wait))
