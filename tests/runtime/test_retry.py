"""The retry policy: which API errors are retried, how long, and what surfaces."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
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


def test_a_create_of_unknown_outcome_is_never_sent_twice_blindly() -> None:
    lost = InternalError("no idea whether it happened")
    retry.mark_unknown_outcome(lost)
    calls: list[int] = []

    def post() -> None:
        calls.append(1)
        raise lost

    with pytest.raises(InternalError):
        retry.call(post, what="test", budget=5)
    assert calls == [1]


@pytest.mark.parametrize(("happened", "sent"), [(True, 1), (False, 2)])
def test_a_create_of_unknown_outcome_reads_before_it_is_sent_again(
    happened: bool, sent: int
) -> None:
    errors: list[BaseException] = [InternalError("oops")]
    calls: list[int] = []

    def post() -> None:
        calls.append(1)
        if errors:
            raise errors.pop()

    retry.create(post, what="test", happened=lambda: happened)
    assert len(calls) == sent


def refused() -> requests.ConnectionError:
    try:
        requests.get("http://127.0.0.1:9/", timeout=2)
    except requests.ConnectionError as error:
        return error
    raise AssertionError("something listens on port 9")


def test_a_host_never_reached_fails_at_once_one_reached_is_retried() -> None:
    error = refused()
    assert diagnose(error).verdict is Verdict.UNREACHABLE
    calls: list[int] = []

    def fail_once() -> str:
        calls.append(1)
        if len(calls) % 2:
            raise error
        return "done"

    endpoint = retry.Endpoint(where="target 't' (http://127.0.0.1:9)", budget=5)
    with pytest.raises(retry.GaveUp, match=r"target 't' .*connection refused"):
        retry.send(fail_once, method="GET", path="/x", endpoint=endpoint)
    assert len(calls) == 1
    calls.append(1)
    endpoint.reached = True  # it answered before: a refused connection is a blip now
    assert retry.send(fail_once, method="POST", path="/x", endpoint=endpoint) == "done"
    assert len(calls) == 4


def test_a_post_that_may_have_happened_is_left_to_its_caller() -> None:
    endpoint = retry.Endpoint(where="w", budget=5, reached=True)
    calls: list[int] = []

    def post() -> None:
        calls.append(1)
        raise InternalError("maybe")

    with pytest.raises(InternalError) as raised:
        retry.send(post, method="POST", path="/x", endpoint=endpoint)
    assert calls == [1] and retry.unknown_outcome(raised.value)
    calls.clear()
    with pytest.raises(InternalError, match="gave up after"):
        retry.send(post, method="GET", path="/x", endpoint=retry.Endpoint("w", budget=0.5))
    assert len(calls) > 1
