"""A workspace's API rate limit: over N requests per second are answered 429
REQUEST_LIMIT_EXCEEDED with an integer Retry-After, which the real SDK honours."""

from __future__ import annotations

import http.client
import json
import math
import threading
import time
from collections.abc import Callable

from reconciler.sandbox import Faults, SandboxConfig, SandboxServer, workspace_client
from reconciler.sandbox.ratelimit import RateLimiter

from .raw_http import port_of

LIST = "/api/2.0/serving-endpoints"


def limited(factory: Callable[..., SandboxServer], per_second: float) -> SandboxServer:
    config = SandboxConfig.fast()
    config.faults = Faults(rate_limit=per_second)
    return factory(config)


def get(conn: http.client.HTTPConnection, path: str = LIST) -> http.client.HTTPResponse:
    conn.request("GET", path, headers={"Authorization": "Bearer x"})
    response = conn.getresponse()
    response.read()
    return response


def test_requests_over_the_limit_get_429_with_retry_after(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    server = limited(sandbox_factory, 5)
    conn = http.client.HTTPConnection("127.0.0.1", port_of(server), timeout=5)
    started = time.monotonic()
    statuses, throttled = [], []
    for _ in range(15):
        conn.request("GET", LIST, headers={"Authorization": "Bearer x"})
        response = conn.getresponse()
        body = response.read()
        statuses.append(response.status)
        if response.status == 429:
            throttled.append((json.loads(body), response.getheader("Retry-After")))
    windows = max(1, math.ceil(time.monotonic() - started))
    admitted = statuses.count(200)
    assert 5 <= admitted <= 5 * windows
    assert set(statuses) == {200, 429}
    doc, retry_after = throttled[0]
    assert set(doc) == {"error_code", "message"}
    assert doc["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert retry_after is not None and retry_after.isdigit() and int(retry_after) >= 1
    conn.close()


def test_host_metadata_and_control_routes_are_not_rate_limited(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    server = limited(sandbox_factory, 1)
    conn = http.client.HTTPConnection("127.0.0.1", port_of(server), timeout=5)
    assert get(conn).status == 200
    assert get(conn).status == 429  # the one request of this second is spent
    for _ in range(5):
        assert get(conn, "/.well-known/databricks-config").status == 404
        assert get(conn, "/sandbox/health").status == 200
        assert get(conn, "/sandbox/faults").status == 200
    conn.close()


def test_the_sdk_retries_rate_limited_calls_and_succeeds(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    server = limited(sandbox_factory, 2)
    sdk = workspace_client(server.url, retry_timeout_seconds=20)
    names = [sdk.serving_endpoints.get("databricks-bge-large-en").name for _ in range(6)]
    assert names == ["databricks-bge-large-en"] * 6
    assert server.injector.throttled >= 1  # some calls were refused, and retried


def test_the_limit_is_measured_over_time(sandbox_factory: Callable[..., SandboxServer]) -> None:
    per_second = 10
    server = limited(sandbox_factory, per_second)
    counts: list[int] = []
    lock = threading.Lock()
    stop = time.monotonic() + 2.2

    def hammer() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port_of(server), timeout=5)
        admitted = 0
        while time.monotonic() < stop:
            admitted += get(conn).status == 200
        conn.close()
        with lock:
            counts.append(admitted)

    started = time.monotonic()
    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    admitted = sum(counts)
    # At most N in any one second; clients that never stop asking fill every second.
    assert admitted <= per_second * (math.floor(elapsed) + 1)
    assert admitted >= per_second * math.floor(elapsed)
    assert server.injector.throttled > admitted  # four eager clients: most were refused


def test_rate_limiter_admits_n_in_any_sliding_second() -> None:
    now = [100.0]
    limiter = RateLimiter(3, clock=lambda: now[0])
    assert [limiter.admit() for _ in range(4)] == [None, None, None, 1]
    now[0] += 0.5
    assert limiter.admit() == 1  # the first three are still within the last second
    now[0] += 0.5
    assert [limiter.admit() for _ in range(4)] == [None, None, None, 1]
    half = RateLimiter(0.5, clock=lambda: now[0])  # one request every two seconds
    assert (half.admit(), half.admit()) == (None, 2)
    now[0] += 2.0
    assert half.admit() is None
