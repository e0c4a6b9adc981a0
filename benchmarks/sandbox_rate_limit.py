"""The sandbox's workspace rate limit, measured: what eager clients get admitted, and how long
the real databricks-sdk takes to make N calls through it (it retries each 429 after Retry-After).

    .venv/bin/python benchmarks/sandbox_rate_limit.py [--rate 30] [--seconds 5] [--threads 8]
        [--sdk-calls 90]

Prints the requests admitted (at most the limit in any one second, so about rate x seconds)
and refused, and the SDK's wall time against calls / rate.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import tempfile
import threading
import time
from pathlib import Path

from reconciler.sandbox import Faults, SandboxConfig, SandboxServer, workspace_client

PATH = "/api/2.0/serving-endpoints/databricks-bge-large-en"


def hammer(port: int, until: float, admitted: list[float], lock: threading.Lock) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    mine = []
    while time.monotonic() < until:
        conn.request("GET", PATH, headers={"Authorization": "Bearer x"})
        response = conn.getresponse()
        response.read()
        if response.status == 200:
            mine.append(time.monotonic())
    conn.close()
    with lock:
        admitted.extend(mine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=30)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--sdk-calls", type=int, default=90)
    args = parser.parse_args()
    logging.getLogger("databricks.sdk").setLevel(logging.ERROR)
    config = SandboxConfig.fast()
    config.faults = Faults(rate_limit=args.rate)
    with SandboxServer(Path(tempfile.mkdtemp()), config=config) as server:
        port = int(server.url.rsplit(":", 1)[1])
        admitted: list[float] = []
        lock = threading.Lock()
        started = time.monotonic()
        until = started + args.seconds
        threads = [
            threading.Thread(target=hammer, args=(port, until, admitted, lock))
            for _ in range(args.threads)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        refused = server.injector.throttled
        print(f"limit {args.rate:g}/s, {args.threads} eager clients for {elapsed:.1f} s:")
        print(
            f"  admitted {len(admitted)} ({len(admitted) / elapsed:.1f}/s,"
            f" limit x seconds = {args.rate * elapsed:.0f}), answered 429: {refused}"
        )

        time.sleep(1.1)  # an empty window for the SDK run
        sdk = workspace_client(server.url, retry_timeout_seconds=300)
        before = server.injector.throttled
        started = time.monotonic()
        for _ in range(args.sdk_calls):
            sdk.serving_endpoints.get("databricks-bge-large-en")
        took = time.monotonic() - started
        ideal = args.sdk_calls / args.rate
        print(
            f"sdk: {args.sdk_calls} sequential calls in {took:.2f} s"
            f" (calls / rate = {ideal:.2f} s, x{took / ideal:.2f}),"
            f" {server.injector.throttled - before} answered 429 and retried"
        )


if __name__ == "__main__":
    main()
