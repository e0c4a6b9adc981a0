"""The one retry policy of apply: throttling and server errors back off, busy endpoints wait.

The SDK has its own retry loop (429/503 for ``retry_timeout_seconds``, then a builtin
``TimeoutError`` whose ``__cause__`` is the last API error). The client writes use has a short
SDK budget (``reconciler.adapters.databricks.client.short_retry_client``) so that loop gives up
fast and this policy decides: it unwraps the ``TimeoutError``, honours ``Retry-After``, waits
out a busy endpoint, and stops when the change's retry budget is spent.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

import requests
from databricks.sdk.errors import (
    AlreadyExists,
    BadRequest,
    DeadlineExceeded,
    InternalError,
    ResourceAlreadyExists,
    ResourceConflict,
    TemporarilyUnavailable,
    TooManyRequests,
)
from databricks.sdk.errors.base import DatabricksError

from reconciler.runtime import context
from reconciler.runtime.context import current_settings

T = TypeVar("T")
log = logging.getLogger(__name__)

BUSY_PHRASES = ("in progress", "currently updating", "is updating", "being updated")
TRANSIENT_CODES = frozenset(
    {"BAD_GATEWAY", "SERVICE_UNAVAILABLE", "TEMPORARILY_UNAVAILABLE", "INTERNAL_ERROR"}
)
MAX_BACKOFF = 30.0


class Verdict(StrEnum):
    FATAL = "fatal"
    TRANSIENT = "transient"
    BUSY = "busy"


@dataclass(frozen=True)
class Diagnosis:
    verdict: Verdict
    error: BaseException
    retry_after: float | None = None
    sdk_waited: bool = False
    """The SDK already slept once (its Retry-After) before giving up: don't sleep it twice."""


def unwrap(error: BaseException) -> tuple[BaseException, bool]:
    """The API error behind the SDK's retry ``TimeoutError``, and whether it was wrapped."""
    cause = error.__cause__
    if isinstance(error, TimeoutError) and isinstance(
        cause, DatabricksError | requests.RequestException
    ):
        return cause, True
    return error, False


def is_busy(error: BaseException) -> bool:
    """A write refused because the endpoint is mid-update (409, or a 400 saying so)."""
    if isinstance(error, AlreadyExists | ResourceAlreadyExists):
        return False
    message = str(error).lower()
    if isinstance(error, ResourceConflict):
        return error.error_code in (None, "RESOURCE_CONFLICT", "ABORTED") or any(
            p in message for p in BUSY_PHRASES
        )
    return isinstance(error, BadRequest) and any(p in message for p in BUSY_PHRASES)


def diagnose(error: BaseException) -> Diagnosis:
    inner, wrapped = unwrap(error)
    if is_busy(inner):
        return Diagnosis(Verdict.BUSY, inner, sdk_waited=wrapped)
    transient = isinstance(
        inner,
        TooManyRequests
        | InternalError
        | TemporarilyUnavailable
        | DeadlineExceeded
        | requests.ConnectionError
        | requests.Timeout,
    ) or (
        isinstance(inner, DatabricksError)
        and type(inner) is DatabricksError
        and inner.error_code in TRANSIENT_CODES
    )
    if transient:
        after = getattr(inner, "retry_after_secs", None)
        return Diagnosis(
            Verdict.TRANSIENT,
            inner,
            retry_after=float(after) if after is not None else None,
            sdk_waited=wrapped,
        )
    return Diagnosis(Verdict.FATAL, inner, sdk_waited=wrapped)


def backoff(attempt: int, diagnosis: Diagnosis) -> float:
    """Seconds to sleep before attempt ``attempt + 1``."""
    if diagnosis.sdk_waited:
        return 0.05
    if diagnosis.retry_after is not None:
        return diagnosis.retry_after + random.uniform(0, 0.25)
    base: float = min(MAX_BACKOFF, 0.25 * 2**attempt)
    return base * random.uniform(0.5, 1.0)


def call(
    fn: Callable[[], T],
    *,
    what: str,
    wait_idle: Callable[[], None] | None = None,
    budget: float | None = None,
) -> T:
    """Run ``fn`` under the policy.

    ``wait_idle`` is called when the target answers busy: it returns once the asset is idle
    (the serving endpoint no longer IN_PROGRESS). The error that ends the retries is raised
    unwrapped, so callers see the API's own message.
    """
    limit = budget if budget is not None else current_settings().retry_budget
    started = time.monotonic()
    attempt = 0
    while True:
        try:
            return fn()
        except Exception as error:
            diagnosis = diagnose(error)
            if diagnosis.verdict is Verdict.FATAL:
                if diagnosis.sdk_waited:
                    raise diagnosis.error from None
                raise
            spent = time.monotonic() - started
            delay = backoff(attempt, diagnosis)
            left = min(limit - spent, context.check_deadline(what))
            if left <= delay:
                raise diagnosis.error from None
            attempt += 1
            log.info(
                "retrying %s after %s (%s, attempt %d)",
                what,
                type(diagnosis.error).__name__,
                diagnosis.verdict.value,
                attempt,
            )
            if diagnosis.verdict is Verdict.BUSY and wait_idle is not None:
                wait_idle()
            with context.waiting(f"retry {what} in {delay:.1f}s"):
                context.sleep(delay)
