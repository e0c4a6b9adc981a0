"""The read limiter's AIMD: slow start to the ceiling, one halving per throttling episode,
additive growth after it, Retry-After shared by every request of every thread, and the pace
learned from the rate the workspace admitted. A fake clock drives the arithmetic; the pause
and the pace are also checked on the real clock, with threads."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from itertools import pairwise

import pytest
import requests
from requests.adapters import HTTPAdapter

from reconciler.adapters.databricks.concurrency import (
    INITIAL,
    PACE_SHARE,
    AdaptiveLimiter,
    CallMeter,
    GatedAdapter,
    Pool,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_starts_moderate_and_doubles_per_round_trip_up_to_the_ceiling() -> None:
    limiter = AdaptiveLimiter(64, clock=Clock())
    assert limiter.limit == INITIAL
    for _ in range(INITIAL):
        limiter.on_response(200)
    assert limiter.limit == 2 * INITIAL  # one round trip of clean answers doubles it
    for _ in range(500):
        limiter.on_response(200)
    assert limiter.limit == 64
    assert AdaptiveLimiter(4).limit == 4  # never above the ceiling, even at the start


def test_a_429_halves_once_per_episode_then_growth_is_additive() -> None:
    clock = Clock()
    limiter = AdaptiveLimiter(64, clock=clock)
    for _ in range(100):
        limiter.on_response(200)
    assert limiter.limit == 64
    clock.now += 0.5
    limiter.on_response(429, 0, sent_at=clock.now - 0.05)
    assert limiter.limit == 32
    # Other calls that were already in flight come back 429 too: the same episode.
    for _ in range(10):
        limiter.on_response(429, 0, sent_at=clock.now - 0.04)
    assert (limiter.limit, limiter.cuts, limiter.throttled) == (32, 1, 11)
    # Additive: one more call per `limit` clean answers (one per round trip).
    for _ in range(31):
        limiter.on_response(200)
    assert limiter.limit == 32
    limiter.on_response(200)
    assert limiter.limit == 33
    # A call sent after the episode began that is refused again starts a new one.
    clock.now += 1
    limiter.on_response(429, 0, sent_at=clock.now - 0.05)
    assert (limiter.limit, limiter.cuts) == (16, 2)
    for _ in range(8):
        limiter.on_response(429, 0, sent_at=clock.now)
        clock.now += 1
    assert limiter.limit == 1  # never below one call


def test_errors_other_than_429_neither_grow_nor_cut() -> None:
    limiter = AdaptiveLimiter(64, clock=Clock())
    for status in (400, 403, 409, 500, 503):
        limiter.on_response(status)
    assert (limiter.limit, limiter.cuts) == (INITIAL, 0)
    limiter.on_response(404)  # a read of something absent is a clean answer
    assert limiter.limit == INITIAL + 1


def test_the_pace_is_the_rate_admitted_in_the_second_before_the_429() -> None:
    clock = Clock()
    limiter = AdaptiveLimiter(64, clock=clock)
    limiter.gate()  # the first request leaves at 100.0
    for i in range(40):
        clock.now = 100.0 + (i + 1) / 20  # 20 answers a second, for two seconds
        limiter.on_response(200)
    assert limiter.pace is None  # unpaced until the workspace throttles
    limiter.on_response(429, 1, sent_at=clock.now - 0.01)
    assert limiter.pace is None  # learned when the pause is over, once all answers are in
    clock.now += 1
    limiter.gate()
    assert limiter.pace == pytest.approx(PACE_SHARE * 20)
    # Near the throttled rate it grows slowly: ~0.1 requests/s per second of clean answers.
    for _ in range(19):
        limiter.on_response(200)
    assert limiter.pace == pytest.approx(PACE_SHARE * 20 + 0.1, abs=0.01)


def test_a_429_in_the_first_second_halves_but_sets_no_pace() -> None:
    """Ten answers in the first 0.1 s, then a 429: a burst, not a rate."""
    clock = Clock()
    limiter = AdaptiveLimiter(64, clock=clock)
    limiter.gate()
    for _ in range(10):
        clock.now += 0.01
        limiter.on_response(200)
    limiter.on_response(429, 0, sent_at=clock.now)
    limiter.gate()
    assert (limiter.pace, limiter.cuts) == (None, 1)


def test_retry_after_holds_every_request_from_every_thread() -> None:
    limiter = AdaptiveLimiter(8)
    started = time.monotonic()
    limiter.on_response(429, 0.4, sent_at=started)
    sent: list[float] = []

    def request() -> None:
        limiter.gate()
        sent.append(time.monotonic() - started)

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert len(sent) == 4 and min(sent) >= 0.39, sent


def test_paced_requests_leave_one_pace_interval_apart() -> None:
    limiter = AdaptiveLimiter(64)
    limiter.pace = 20.0  # as a 429 would have set it
    sent: list[float] = []
    lock = threading.Lock()

    def call() -> None:
        limiter.gate()
        with lock:
            sent.append(time.monotonic())

    Pool(limiter).run([call] * 11)
    sent.sort()
    assert sent[-1] - sent[0] >= 10 / 20 - 0.01
    assert min(b - a for a, b in pairwise(sent)) >= 1 / 20 - 0.01


def test_the_pool_never_exceeds_the_limit_and_reraises_the_first_failure() -> None:
    limiter = AdaptiveLimiter(3, initial=3)
    busy, peak = [0], [0]
    lock = threading.Lock()

    def call() -> None:
        with lock:
            busy[0] += 1
            peak[0] = max(peak[0], busy[0])
        time.sleep(0.01)
        with lock:
            busy[0] -= 1

    Pool(limiter).run([call] * 20)
    assert peak[0] == 3

    def boom() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        Pool(limiter).run([call, boom, call])


def _response(status: int, headers: dict[str, str] | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    response.elapsed = timedelta(milliseconds=50)
    return response


def test_the_meter_counts_every_answer_and_passes_retry_after_on() -> None:
    limiter = AdaptiveLimiter(16, clock=Clock())
    meter = CallMeter(limiter)
    session = requests.Session()
    session.mount("http://", HTTPAdapter(pool_connections=3, pool_maxsize=7, pool_block=True))
    meter.attach(session)
    meter.attach(session)  # idempotent
    assert session.hooks["response"].count(meter.hook) == 1
    gated = session.get_adapter("http://127.0.0.1:1/x")
    assert isinstance(gated, GatedAdapter) and gated.gate == limiter.gate
    assert (gated._pool_maxsize, gated._pool_block) == (7, True)  # the pool it replaced
    assert isinstance(session.get_adapter("https://example.invalid/"), GatedAdapter)
    meter.hook(_response(200))
    meter.hook(_response(429, {"Retry-After": "3"}))
    meter.hook(_response(429, {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}))
    assert (meter.calls, meter.refused, limiter.throttled, limiter.cuts) == (3, 2, 2, 1)
    assert limiter._resume_at == pytest.approx(100.0 + 3)
