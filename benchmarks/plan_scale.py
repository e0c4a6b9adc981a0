"""Plan at scale: N assets in a sandbox answering every call after 50 ms.

For each size the workspace is first filled to match the manifests (no latency), then a sandbox
server with injected latency runs in a child process and ``make_plan`` reads it twice: with
the adapter's bounded concurrency, and one call at a time (the serial baseline). Printed per
size: plan wall time, API calls, peak Python heap (tracemalloc) and the process RSS.

    .venv/bin/python benchmarks/plan_scale.py                   # 100 and 1000
    .venv/bin/python benchmarks/plan_scale.py --sizes 100,1000,5000 --baseline-max 1000

Goal: 1,000 assets under 5 s, at least 10x faster than serial, under 300 MB at 5,000.
"""

from __future__ import annotations

import argparse
import resource
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import serving, vectorsearch

from reconciler.adapters.databricks.client import sandbox_client
from reconciler.adapters.databricks.registered_model import alias_inventory_key
from reconciler.adapters.databricks.serving_endpoint import QUOTA_TAG
from reconciler.adapters.databricks.vector_index import index_marker_key
from reconciler.adapters.databricks.workspace import DatabricksWorkspace
from reconciler.commands.plan import make_plan
from reconciler.manifest import load_project
from reconciler.model.live import OWNER_TAG
from reconciler.runtime.logs import configure_logging
from reconciler.sandbox import SandboxConfig, SandboxServer, register_versions_up_to

UNIT = 6
"""Assets per unit: a model, its two aliases, an endpoint serving it, a quota, an index."""
INDEXES_PER_VS = 25
PROJECT = "bench"


def build_project(root: Path, n: int) -> int:
    units = max(1, n // UNIT)
    models, endpoints, quotas, vs, indexes = [], [], [], [], []
    for i in range(units):
        model = f"main.bench.m{i:05d}"
        models.append({"name": model, "aliases": {"champion": 1, "challenger": 2}})
        endpoints.append(
            {
                "name": f"ep-{i:05d}",
                "served_entities": [
                    {"name": "champion", "entity": f"{model}@champion", "workload_size": "Small"}
                ],
            }
        )
        quotas.append({"endpoint": f"ep-{i:05d}", "rate_limits": [{"calls_per_minute": 100}]})
        if i % INDEXES_PER_VS == 0:
            vs.append({"name": f"vs-{i // INDEXES_PER_VS:04d}"})
        indexes.append(
            {
                "name": f"main.bench.idx{i:05d}",
                "endpoint": f"vs-{i // INDEXES_PER_VS:04d}",
                "primary_key": "id",
                "direct_access": {
                    "schema": {"id": "long", "vec": "array<float>"},
                    "embedding_vector_columns": [{"name": "vec", "dimension": 8}],
                },
            }
        )
    root.mkdir(parents=True)
    (root / "manifests").mkdir()
    project = {
        "project": "bench",
        "default_target": "bench",
        "targets": {"bench": {"type": "sandbox", "state_dir": "state"}},
    }
    (root / "reconciler.yaml").write_text(yaml.safe_dump(project))
    manifests = {
        "registered_models": models,
        "serving_endpoints": endpoints,
        "quotas": quotas,
        "vector_search_endpoints": vs,
        "vector_indexes": indexes,
    }
    (root / "manifests" / "all.yaml").write_text(yaml.safe_dump(manifests, sort_keys=False))
    return len(models) * 3 + len(endpoints) + len(quotas) + len(vs) + len(indexes)


def fill(state: Path, units: int) -> None:
    """Create everything the manifests declare, concurrently, with no latency, marked as the
    project's own as its apply would leave them (unmarked assets would each plan an adopt)."""
    with SandboxServer(state, config=SandboxConfig.fast()) as server:
        w = sandbox_client(server.url)
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda i: _vs(w, i, units), range(0, units, INDEXES_PER_VS)))
            time.sleep(0.1)  # let the VS endpoints come online
            list(pool.map(lambda i: _unit(w, i), range(units)))


def _vs(w: WorkspaceClient, i: int, units: int) -> None:
    name = f"vs-{i // INDEXES_PER_VS:04d}"
    w.vector_search_endpoints.create_endpoint(name, vectorsearch.EndpointType.STANDARD)
    held = range(i, min(i + INDEXES_PER_VS, units))
    markers = [(index_marker_key(f"main.bench.idx{j:05d}"), PROJECT) for j in held]
    tags = [vectorsearch.CustomTag(key=k, value=v) for k, v in [(OWNER_TAG, PROJECT), *markers]]
    w.vector_search_endpoints.update_endpoint_custom_tags(name, tags)


def _unit(w: WorkspaceClient, i: int) -> None:
    model = f"main.bench.m{i:05d}"
    register_versions_up_to(w, model, 2)
    w.registered_models.set_alias(model, "champion", 1)
    w.registered_models.set_alias(model, "challenger", 2)
    marks = {OWNER_TAG: PROJECT, alias_inventory_key(PROJECT): "challenger,champion"}
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
    w.serving_endpoints.create(
        f"ep-{i:05d}",
        config=serving.EndpointCoreConfigInput(name=f"ep-{i:05d}", served_entities=[entity]),
        tags=[
            serving.EndpointTag(key=OWNER_TAG, value=PROJECT),
            serving.EndpointTag(key=QUOTA_TAG, value=PROJECT),
        ],
        ai_gateway=serving.AiGatewayConfig(
            rate_limits=[
                serving.AiGatewayRateLimit(
                    calls=100, renewal_period=serving.AiGatewayRateLimitRenewalPeriod.MINUTE
                )
            ]
        ),
    )
    w.vector_search_indexes.create_index(
        f"main.bench.idx{i:05d}",
        f"vs-{i // INDEXES_PER_VS:04d}",
        "id",
        vectorsearch.VectorIndexType.DIRECT_ACCESS,
        direct_access_index_spec=vectorsearch.DirectAccessVectorIndexSpec(
            schema_json='{"id": "long", "vec": "array<float>"}',
            embedding_vector_columns=[
                vectorsearch.EmbeddingVectorColumn(name="vec", embedding_dimension=8)
            ],
        ),
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(state: Path, latency_ms: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [
        sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", str(port),
        "--state", str(state), "--latency-ms", str(latency_ms), "--quiet",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the sandbox did not start")


def measure(root: Path, url: str, concurrency: int, *, trace: bool = False) -> Measure:
    """One plan; with ``trace`` the peak Python heap is measured too (tracemalloc slows Python
    down several times, so timed runs never trace)."""
    project = load_project(root)
    ws = DatabricksWorkspace(sandbox_client(url), concurrency=concurrency)
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    result = make_plan(project, "bench", workspace=ws)
    seconds = time.perf_counter() - started
    peak = 0.0
    if trace:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return Measure(seconds, result.live.api_calls, len(result.plan.changes), peak)


@dataclass(frozen=True)
class Measure:
    seconds: float
    calls: int
    changes: int
    heap_mb: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--baseline-max", type=int, default=1000, help="Skip serial above this.")
    parser.add_argument("--fill-only", nargs=2, metavar=("STATE", "UNITS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    configure_logging()
    if args.fill_only:
        fill(Path(args.fill_only[0]), int(args.fill_only[1]))
        return
    print(f"latency {args.latency_ms:g} ms/call, concurrency {args.concurrency}")
    header = (
        f"{'assets':>7} {'plan s':>8} {'calls':>6} {'changes':>7} {'heap MB':>8}"
        f" {'serial s':>9} {'serial calls':>12} {'speedup':>8} {'rss MB':>7}"
    )
    print(header)
    for n in (int(x) for x in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "project"
            assets = build_project(root, n)
            # Filled in a child process, so this process's RSS is the plan's alone.
            units = str(max(1, n // UNIT))
            subprocess.run([sys.executable, __file__, "--fill-only", str(root / "state"), units],
                           check=True)  # fmt: skip
            proc, url = serve(root / "state", args.latency_ms)
            try:
                fast = measure(root, url, args.concurrency)
                heap = measure(root, url, args.concurrency, trace=True).heap_mb
                serial = measure(root, url, 1) if n <= args.baseline_max else None
            finally:
                proc.terminate()
                proc.wait(10)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        s_time = f"{serial.seconds:9.2f}" if serial else f"{'-':>9}"
        s_calls = f"{serial.calls:12d}" if serial else f"{'-':>12}"
        speedup = f"{serial.seconds / fast.seconds:7.1f}x" if serial else f"{'-':>8}"
        print(
            f"{assets:7d} {fast.seconds:8.2f} {fast.calls:6d} {fast.changes:7d} {heap:8.1f}"
            f" {s_time} {s_calls} {speedup} {rss:7.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
