"""Plan at scale, end to end: the CLI (``reconciler -v plan``) in its own process, through a
``databricks`` target over loopback, against a ``reconciler sandbox serve`` process that
answers every API call after 50 ms (and, for ``ratelimit``, admits N requests a second).

Each scenario first fills a sandbox state to match its manifests (in this process, no latency),
then serves it and times the plan. Printed: wall time of the whole command (start-up
included), the read time and API calls it reports (``-v``), calls per object, the 429s it
absorbed, and the command's peak RSS.

    .venv/bin/python benchmarks/plan_scale.py endpoints   # 200 models + 200 endpoints
    .venv/bin/python benchmarks/plan_scale.py scale --sizes 1000,5000
    .venv/bin/python benchmarks/plan_scale.py ratelimit --assets 1000 --rate 30
    .venv/bin/python benchmarks/plan_scale.py all

Goals (issue 14): ``endpoints`` at least 10x faster than one call per object, one at a time
(400 x 50 ms = 20 s), so under 2.0 s, with at most 1.1 calls per object; ``scale`` 5,000
assets under 10 s and 300 MB; ``ratelimit`` no failed call and within 1.3x of calls / rate.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import serving, vectorsearch

from reconciler.adapters.databricks.held_indexes import index_marker_key
from reconciler.adapters.databricks.model_tags import alias_inventory_key
from reconciler.adapters.databricks.serving_endpoint import QUOTA_TAG
from reconciler.model.live import OWNER_TAG
from reconciler.sandbox import (
    SandboxConfig,
    SandboxServer,
    register_versions_up_to,
    workspace_client,
)

UNIT = 6
"""Assets per unit of the ``scale`` mix: a model, its two aliases, an endpoint serving it, a
quota on the endpoint, an index."""
INDEXES_PER_VS = 25
PROJECT = "bench"
READ_LINE = re.compile(
    r"with (?P<calls>\d+) API calls(?:, (?P<throttled>\d+) answered 429 and were retried)?"
    r" in (?P<seconds>[\d.]+)s"
)


# --- projects ---------------------------------------------------------------------------


def write_project(root: Path, manifests: dict[str, list[dict[str, Any]]]) -> None:
    """A project whose one target, ``bench``, is a databricks target (its host comes from
    DATABRICKS_HOST, set when the sandbox serves)."""
    (root / "manifests").mkdir(parents=True)
    project = {"project": PROJECT, "default_target": "bench", "targets": {"bench": {}}}
    project["targets"]["bench"] = {"type": "databricks"}
    (root / "reconciler.yaml").write_text(yaml.safe_dump(project))
    (root / "manifests" / "all.yaml").write_text(yaml.safe_dump(manifests, sort_keys=False))


def endpoints_project(root: Path, n: int) -> int:
    """``n`` models (alias ``champion``: 1) and ``n`` endpoints serving ``model@champion``."""
    models = [{"name": _model(i), "aliases": {"champion": 1}} for i in range(n)]
    endpoints = [
        {
            "name": _endpoint(i),
            "served_entities": [
                {"name": "champion", "entity": f"{_model(i)}@champion", "workload_size": "Small"}
            ],
        }
        for i in range(n)
    ]
    write_project(root, {"registered_models": models, "serving_endpoints": endpoints})
    return 2 * n


def mixed_project(root: Path, n: int) -> int:
    """About ``n`` assets in units of ``UNIT``; returns the number of assets."""
    units = max(1, n // UNIT)
    models, endpoints, quotas, vs, indexes = [], [], [], [], []
    for i in range(units):
        models.append({"name": _model(i), "aliases": {"champion": 1, "challenger": 2}})
        endpoints.append(
            {
                "name": _endpoint(i),
                "served_entities": [
                    {
                        "name": "champion",
                        "entity": f"{_model(i)}@champion",
                        "workload_size": "Small",
                    }
                ],
            }
        )
        quotas.append({"endpoint": _endpoint(i), "rate_limits": [{"calls_per_minute": 100}]})
        if i % INDEXES_PER_VS == 0:
            vs.append({"name": _vs(i)})
        indexes.append(
            {
                "name": _index(i),
                "endpoint": _vs(i),
                "primary_key": "id",
                "direct_access": {
                    "schema": {"id": "long", "vec": "array<float>"},
                    "embedding_vector_columns": [{"name": "vec", "dimension": 8}],
                },
            }
        )
    write_project(
        root,
        {
            "registered_models": models,
            "serving_endpoints": endpoints,
            "quotas": quotas,
            "vector_search_endpoints": vs,
            "vector_indexes": indexes,
        },
    )
    return len(models) * 3 + len(endpoints) + len(quotas) + len(vs) + len(indexes)


def _model(i: int) -> str:
    return f"main.bench.m{i:05d}"


def _endpoint(i: int) -> str:
    return f"ep-{i:05d}"


def _index(i: int) -> str:
    return f"main.bench.idx{i:05d}"


def _vs(i: int) -> str:
    return f"vs-{i // INDEXES_PER_VS:04d}"


# --- filling the sandbox to match -------------------------------------------------------


def fill(state: Path, units: int, *, mixed: bool) -> None:
    """Create what the manifests declare, concurrently, with no latency, marked as the
    project's own as its apply would leave them (unmarked assets would each plan an adopt)."""
    with SandboxServer(state, config=SandboxConfig.fast()) as server:
        w = workspace_client(server.url)
        with ThreadPoolExecutor(16) as pool:
            if mixed:
                vs = range(0, units, INDEXES_PER_VS)
                list(pool.map(lambda i: _create_vs(w, i, units), vs))
                time.sleep(0.1)  # let the VS endpoints come online
            list(pool.map(lambda i: _create_unit(w, i, mixed=mixed), range(units)))


def _create_vs(w: WorkspaceClient, i: int, units: int) -> None:
    w.vector_search_endpoints.create_endpoint(_vs(i), vectorsearch.EndpointType.STANDARD)
    held = range(i, min(i + INDEXES_PER_VS, units))
    marks = [(OWNER_TAG, PROJECT)] + [(index_marker_key(_index(j)), PROJECT) for j in held]
    tags = [vectorsearch.CustomTag(key=k, value=v) for k, v in marks]
    w.vector_search_endpoints.update_endpoint_custom_tags(_vs(i), tags)


def _create_unit(w: WorkspaceClient, i: int, *, mixed: bool) -> None:
    model = _model(i)
    register_versions_up_to(w, model, 2 if mixed else 1)
    w.registered_models.set_alias(model, "champion", 1)
    if mixed:
        w.registered_models.set_alias(model, "challenger", 2)
    aliases = "challenger,champion" if mixed else "champion"
    marks = {OWNER_TAG: PROJECT, alias_inventory_key(PROJECT): aliases}
    w.api_client.do(
        "PATCH",
        f"/api/2.1/unity-catalog/securable-tags/FUNCTION/{model}",
        body={"changes": {"add_tags": [{"key": k, "value": v} for k, v in marks.items()]}},
    )
    entity = serving.ServedEntityInput(
        name="champion",
        entity_name=model,
        entity_version="1",
        workload_size="Small",
        scale_to_zero_enabled=False,
    )
    limits = [
        serving.AiGatewayRateLimit(
            calls=100, renewal_period=serving.AiGatewayRateLimitRenewalPeriod.MINUTE
        )
    ]
    endpoint_tags = {OWNER_TAG: PROJECT, **({QUOTA_TAG: PROJECT} if mixed else {})}
    w.serving_endpoints.create(
        _endpoint(i),
        config=serving.EndpointCoreConfigInput(name=_endpoint(i), served_entities=[entity]),
        ai_gateway=serving.AiGatewayConfig(rate_limits=limits) if mixed else None,
        tags=[serving.EndpointTag(key=k, value=v) for k, v in endpoint_tags.items()],
    )
    if not mixed:
        return
    w.vector_search_indexes.create_index(
        _index(i),
        _vs(i),
        "id",
        vectorsearch.VectorIndexType.DIRECT_ACCESS,
        direct_access_index_spec=vectorsearch.DirectAccessVectorIndexSpec(
            schema_json='{"id": "long", "vec": "array<float>"}',
            embedding_vector_columns=[
                vectorsearch.EmbeddingVectorColumn(name="vec", embedding_dimension=8)
            ],
        ),
    )


# --- serving and running the CLI --------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(
    state: Path, latency_ms: float, rate: float | None
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [
        sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", str(port),
        "--state", str(state), "--latency-ms", str(latency_ms), "--quiet",
    ]  # fmt: skip
    if rate is not None:
        cmd += ["--rate-limit", str(rate)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the sandbox did not start")


@dataclass(frozen=True)
class Run:
    wall: float
    """The whole command, start-up included."""
    read: float
    calls: int
    throttled: int
    rss_mb: float
    """Peak resident memory of the command's process."""
    cpu: float
    """CPU seconds (user + system) of the command's process: what load on a shared machine
    does not inflate."""


def plan(root: Path, url: str, *extra: str) -> Run:
    """``reconciler -v plan`` in a child process, against the sandbox at ``url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    env.update(DATABRICKS_HOST=url, DATABRICKS_TOKEN="bench")
    cmd = [sys.executable, "-m", "reconciler", "--project", str(root), "-v", "plan", *extra]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    found = READ_LINE.search(err)
    if proc.returncode not in (0, 2) or found is None:
        raise SystemExit(f"plan failed ({proc.returncode}):\n{err[-2000:]}")
    return Run(
        wall=wall,
        read=float(found["seconds"]),
        calls=int(found["calls"]),
        throttled=int(found["throttled"] or 0),
        rss_mb=usage.ru_maxrss / 1024,
        cpu=usage.ru_utime + usage.ru_stime,
    )


def scenario(
    build: Callable[[Path], tuple[int, int, bool]],
    runs: int,
    latency_ms: float,
    rate: float | None = None,
    extra: Sequence[str] = (),
) -> tuple[int, list[Run]]:
    """Build and fill a project, serve it, plan ``runs`` times; (objects, runs)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        objects, units, mixed = build(root)
        fill(root / "state", units, mixed=mixed)
        proc, url = serve(root / "state", latency_ms, rate)
        try:
            plan(root, url)  # warm-up: bytecode caches, page cache
            return objects, [plan(root, url, *extra) for _ in range(runs)]
        finally:
            proc.terminate()
            proc.wait(10)


def median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda r: r.wall)[len(runs) // 2]


# --- the scenarios ----------------------------------------------------------------------


def run_endpoints(args: argparse.Namespace) -> None:
    n = args.models

    def build(root: Path) -> tuple[int, int, bool]:
        return endpoints_project(root, n), n, False

    objects, runs = scenario(build, args.runs, args.latency_ms)
    fast = median_run(runs)
    serial_ideal = objects * args.latency_ms / 1000
    print(f"endpoints: {n} models + {n} endpoints at {args.latency_ms:g} ms a call")
    print(
        f"  one call per object, one at a time: {objects} x {args.latency_ms:g} ms"
        f" = {serial_ideal:.1f} s"
    )
    print(
        f"  plan (median of {len(runs)}): {fast.wall:.2f} s end to end (reads {fast.read:.2f} s,"
        f" CPU {fast.cpu:.2f} s),"
        f" {fast.calls} calls = {fast.calls / objects:.2f} per object,"
        f" {serial_ideal / fast.wall:.1f}x faster; walls {', '.join(f'{r.wall:.2f}' for r in runs)}"
    )
    if args.serial:
        _, serial = scenario(build, 1, args.latency_ms, extra=("--max-concurrency", "1"))
        print(
            f"  the same plan with --max-concurrency 1: {serial[0].wall:.2f} s"
            f" ({serial[0].calls} calls)"
        )


def run_scale(args: argparse.Namespace) -> None:
    print(f"scale: the mixed project at {args.latency_ms:g} ms a call")
    print(
        f"{'assets':>7} {'wall s':>7} {'read s':>7} {'cpu s':>6} {'calls':>6} {'calls/asset':>11}"
        f" {'rss MB':>7}"
    )
    for size in (int(x) for x in args.sizes.split(",")):

        def build(root: Path, size: int = size) -> tuple[int, int, bool]:
            return mixed_project(root, size), max(1, size // UNIT), True

        assets, runs = scenario(build, args.runs, args.latency_ms)
        r = median_run(runs)
        print(
            f"{assets:7d} {r.wall:7.2f} {r.read:7.2f} {r.cpu:6.2f} {r.calls:6d}"
            f" {r.calls / assets:11.2f}"
            f" {r.rss_mb:7.0f}",
            flush=True,
        )


def run_ratelimit(args: argparse.Namespace) -> None:
    def build(root: Path) -> tuple[int, int, bool]:
        return mixed_project(root, args.assets), max(1, args.assets // UNIT), True

    assets, runs = scenario(build, args.runs, args.latency_ms, rate=args.rate)
    print(
        f"ratelimit: {assets} assets, {args.rate:g} requests/s admitted,"
        f" {args.latency_ms:g} ms a call"
    )
    for r in runs:
        answered = r.calls - r.throttled
        ideal = answered / args.rate
        print(
            f"  plan: {r.wall:.2f} s end to end, reads {r.read:.2f} s; {answered} calls answered"
            f" + {r.throttled} answered 429 and retried (no failed call: the plan succeeded);"
            f" calls / rate = {ideal:.2f} s: reads x{r.read / ideal:.2f},"
            f" end to end x{r.wall / ideal:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=["endpoints", "scale", "ratelimit", "all"])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--runs", type=int, default=5, help="Timed plans per scenario (median).")
    parser.add_argument("--models", type=int, default=200, help="endpoints: models (= endpoints)")
    parser.add_argument("--serial", action="store_true", help="endpoints: also --max-concurrency 1")
    parser.add_argument("--sizes", default="1000,5000", help="scale: asset counts")
    parser.add_argument("--assets", type=int, default=1000, help="ratelimit: asset count")
    parser.add_argument("--rate", type=float, default=30.0, help="ratelimit: requests/s")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the fill's SDK warns the sandbox has no metadata
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    if args.scenario in ("endpoints", "all"):
        run_endpoints(args)
    if args.scenario in ("scale", "all"):
        run_scale(args)
    if args.scenario in ("ratelimit", "all"):
        if args.scenario == "all":
            args.runs = min(args.runs, 3)
        run_ratelimit(args)


if __name__ == "__main__":
    main()
