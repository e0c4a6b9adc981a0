"""The retry policy: which API errors are retried, how long, and what surfaces."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from databricks.sdk.errors import (
    BadRequest,
    InternalError,
    InvalidParameterValue,
    NotFound,
    ResourceAlreadyExists,
    ResourceConflict,
    TooManyRequests,
)

from reconciler.runtime import retry
from reconciler.runtime.retry import Verdict, diagnose


def flaky(errors: list[BaseException]) -> Callable[[], str]:
    calls = iter(errors)

    def fn() -> str:
        error = next(calls, None)
        if error is not None:
            raise error
        return "done"

    return fn


def sdk_timeout(cause: BaseException) -> TimeoutError:
    try:
        raise TimeoutError("Timed out after 0:00:01") from cause
    except TimeoutError as error:
        return error


def test_throttling_and_server_errors_are_retried() -> None:
    fn = flaky([TooManyRequests("slow down", retry_after_secs=0), InternalError("oops")])
    assert retry.call(fn, what="test", budget=5) == "done"


def test_retry_after_is_honoured() -> None:
    d = diagnose(TooManyRequests("x", retry_after_secs=3))
    assert d.verdict is Verdict.TRANSIENT and d.retry_after == 3
    assert 3 <= retry.backoff(0, d) < 3.3


def test_sdk_timeout_is_unwrapped_and_not_slept_twice() -> None:
    d = diagnose(sdk_timeout(TooManyRequests("throttled", retry_after_secs=1)))
    assert d.verdict is Verdict.TRANSIENT and d.sdk_waited
    assert isinstance(d.error, TooManyRequests)
    assert retry.backoff(0, d) < 0.1
    fn = flaky([sdk_timeout(TooManyRequests("throttled", retry_after_secs=1))])
    assert retry.call(fn, what="test", budget=5) == "done"


def test_lasting_throttling_surfaces_the_api_error_after_the_budget() -> None:
    fn = flaky([TooManyRequests("REQUEST_LIMIT_EXCEEDED", retry_after_secs=0)] * 1000)
    with pytest.raises(TooManyRequests):
        retry.call(fn, what="test", budget=0.3)


def test_fatal_errors_are_not_retried() -> None:
    calls = []

    def fn() -> None:
        calls.append(1)
        raise InvalidParameterValue("bad workload_size")

    with pytest.raises(InvalidParameterValue):
        retry.call(fn, what="test", budget=5)
    assert len(calls) == 1


def test_fatal_error_behind_sdk_timeout_surfaces_unwrapped() -> None:
    with pytest.raises(NotFound):
        retry.call(flaky([sdk_timeout(NotFound("gone"))]), what="test", budget=5)


@pytest.mark.parametrize(
    "error",
    [
        ResourceConflict("Endpoint ep is currently updating", error_code="RESOURCE_CONFLICT"),
        ResourceConflict("conflict"),
        BadRequest("Cannot update: an update is in progress", error_code="INVALID_STATE"),
    ],
)
def test_busy_endpoint_waits_until_idle_then_retries(error: BaseException) -> None:
    assert diagnose(error).verdict is Verdict.BUSY
    waited = []
    fn = flaky([error])
    assert retry.call(fn, what="test", wait_idle=lambda: waited.append(1), budget=5) == "done"
    assert waited == [1]


def test_already_exists_is_not_busy() -> None:
    error = ResourceAlreadyExists("exists", error_code="RESOURCE_ALREADY_EXISTS")
    assert diagnose(error).verdict is Verdict.FATAL
    assert diagnose(BadRequest("bad request")).verdict is Verdict.FATAL
