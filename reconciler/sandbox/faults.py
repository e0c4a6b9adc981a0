"""Injected latency and failures, deterministic for a seed and a call order, and the
workspace API rate limit.

Faults are decided before a request touches the store, so a rejected call changes nothing,
exactly as a throttled call to the real service does.
"""

from __future__ import annotations

import fnmatch
import random
import threading
import time

from reconciler.sandbox.api import ApiError
from reconciler.sandbox.config import DROP, LOST, Faults
from reconciler.sandbox.ratelimit import RateLimiter


class FaultInjector:
    def __init__(self, faults: Faults) -> None:
        self._lock = threading.Lock()
        self._faults = faults
        self._rng = random.Random(faults.seed)
        self._limiter = _limiter(faults)
        self.injected = 0

    @property
    def faults(self) -> Faults:
        return self._faults

    def configure(self, faults: Faults) -> None:
        with self._lock:
            reseed = faults.seed != self._faults.seed
            self._faults = faults
            if reseed:
                self._rng = random.Random(faults.seed)
            if faults.rate_limit != self._faults_rate:
                self._limiter = _limiter(faults)

    @property
    def _faults_rate(self) -> float | None:
        return None if self._limiter is None else self._limiter.per_second

    @property
    def throttled(self) -> int:
        """Requests answered 429 by the rate limit so far (since it was last set)."""
        return 0 if self._limiter is None else self._limiter.rejected

    def throttle(self) -> None:
        """Raise 429 REQUEST_LIMIT_EXCEEDED with Retry-After when over the rate limit."""
        limiter = self._limiter
        if limiter is None:
            return
        wait = limiter.admit()
        if wait is not None:
            raise ApiError(
                429,
                "REQUEST_LIMIT_EXCEEDED",
                f"Too many requests: this workspace admits {limiter.per_second:g} API requests"
                " per second. Retry later.",
                headers={"Retry-After": str(wait)},
            )

    def before(self, operation: str) -> bool:
        """Sleep the configured latency, then raise the fault this call gets, if any.

        True: serve the call, then drop the connection without an answer (``lost``).
        """
        faults = self._faults
        if faults.latency_ms > 0:
            time.sleep(faults.latency_ms / 1000.0)
        with self._lock:
            rule = faults.fail_operations.get(operation)
            if rule is not None and (rule.times is None or rule.times > 0):
                if rule.times is not None:
                    rule.times -= 1
                self.injected += 1
                if rule.status == LOST:
                    return True
                if rule.status == DROP:
                    raise DropConnection()
                assert isinstance(rule.status, int)
                raise _error(rule.status, f"Injected failure for operation {operation}.", faults)
            targeted = not faults.fault_operations or any(
                fnmatch.fnmatchcase(operation, pattern) for pattern in faults.fault_operations
            )
            if targeted and faults.fault_rate > 0 and self._rng.random() < faults.fault_rate:
                self.injected += 1
                raise _error(faults.fault_status, "Injected fault.", faults)
        return False


class DropConnection(Exception):
    """Close the client's connection without any answer (an injected ``drop``/``lost``)."""


def _limiter(faults: Faults) -> RateLimiter | None:
    return None if faults.rate_limit is None else RateLimiter(faults.rate_limit)


def _error(status: int, message: str, faults: Faults) -> ApiError:
    if status == 429:
        return ApiError(
            429,
            "REQUEST_LIMIT_EXCEEDED",
            "Too many requests. " + message,
            headers={"Retry-After": str(int(faults.retry_after))},
        )
    if status == 503:
        return ApiError(503, "TEMPORARILY_UNAVAILABLE", message)
    if status == 400:
        return ApiError(400, "INVALID_PARAMETER_VALUE", message)
    if status == 404:
        return ApiError(404, "RESOURCE_DOES_NOT_EXIST", message)
    if status == 409:
        return ApiError(409, "RESOURCE_CONFLICT", message)
    return ApiError(status, "INTERNAL_ERROR", message)
