"""Apply at scale: 100 serving endpoint config updates, each taking 2 s to settle.

Runs the whole apply path (plan with the real adapter, executor, write calls, waits) against
the in-process sandbox target. The sequential baseline (one change at a time, each waiting for
its endpoint before the next starts) is measured on a sample and scaled to the full count
(running 100 x 2 s one after the other takes over three minutes); ``--full-baseline`` runs it.

    .venv/bin/python benchmarks/apply_scale.py [--endpoints 100] [--readiness 2.0]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

from reconciler.adapters.databricks.client import ClientSettings, sandbox_client
from reconciler.commands.apply import ApplyRequest, ApplyRun, run_apply
from reconciler.manifest import load_project
from reconciler.runtime.context import NullProgress, ProgressSink
from reconciler.runtime.settings import DEFAULT_PARALLELISM, ApplySettings
from reconciler.sandbox import SandboxConfig, SandboxServer, register_versions_up_to

MODEL = "main.bench.model"
FAST = {
    "RECONCILER_SANDBOX_DELAY_CONFIG_UPDATE": "0.01",
    "RECONCILER_SANDBOX_DELAY_ENDPOINT_READY": "0.01",
}


def write_project(root: Path, count: int, size: str, *, only: int | None = None) -> None:
    endpoints = [
        {
            "name": f"bench-{i:03d}",
            "served_entities": [
                {"name": "main", "entity": MODEL, "version": 1, "workload_size": size}
            ],
        }
        for i in range(count)
        if only is None or i < only
    ]
    (root / "manifests").mkdir(parents=True, exist_ok=True)
    project = {
        "project": "bench",
        "default_target": "sandbox",
        "targets": {"sandbox": {"type": "sandbox"}},
    }
    (root / "reconciler.yaml").write_text(yaml.safe_dump(project))
    (root / "manifests" / "endpoints.yaml").write_text(
        yaml.safe_dump({"serving_endpoints": endpoints})
    )


@contextlib.contextmanager
def env(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


@contextlib.contextmanager
def quiet(plan: object) -> Iterator[ProgressSink]:
    yield NullProgress()


def apply(root: Path, parallelism: int, *, overlap: bool = True) -> tuple[ApplyRun, float]:
    settings = ApplySettings(parallelism=parallelism, overlap_waits=overlap)
    started = time.perf_counter()
    run = run_apply(
        load_project(root),
        ApplyRequest(settings=settings),
        show=lambda plan: None,
        confirm=lambda plan: True,
        progress=quiet,
    )
    wall = time.perf_counter() - started
    if run.result is None or not run.result.ok:
        lines = run.result.summary_lines() if run.result else ["nothing applied"]
        sys.exit("apply failed:\n" + "\n".join(lines))
    return run, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=100)
    parser.add_argument("--readiness", type=float, default=2.0, help="seconds per config update")
    parser.add_argument("--parallelism", type=int, default=DEFAULT_PARALLELISM)
    parser.add_argument("--sample", type=int, default=4, help="updates timed sequentially")
    parser.add_argument("--full-baseline", action="store_true")
    args = parser.parse_args()
    n = args.endpoints
    slow = {**FAST, "RECONCILER_SANDBOX_DELAY_CONFIG_UPDATE": str(args.readiness)}

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with SandboxServer(root / ".reconciler" / "sandbox", config=SandboxConfig.fast()) as s:
            register_versions_up_to(
                sandbox_client(s.url, ClientSettings(retry_timeout_seconds=5)), MODEL, 1
            )
        write_project(root, n, "Small")
        with env(FAST):
            apply(root, 64)  # setup: the endpoints exist, settled

        write_project(root, n, "Medium")
        with env(slow):
            run, wall = apply(root, args.parallelism)
        assert run.result is not None
        updated = len(run.result.applied)

        sample = n if args.full_baseline else min(args.sample, n)
        write_project(root, n, "Large", only=sample)
        with env(slow):
            seq_run, _ = apply(root, 1, overlap=False)
        assert seq_run.result is not None
        per_update = seq_run.result.seconds / max(1, len(seq_run.result.applied))

    sequential = per_update * n
    how = "measured" if args.full_baseline else f"{sample} measured x {n / sample:g}"
    print(f"apply_scale: {updated} endpoint config updates, {args.readiness:g}s readiness each")
    print(
        f"  parallel   (--parallelism {args.parallelism}): {run.result.seconds:6.1f}s executing,"
        f" {wall:6.1f}s wall with planning"
    )
    print(
        f"  sequential (one at a time):    {sequential:6.1f}s ({how}; {per_update:.2f}s per update)"
    )
    print(f"  speed-up: {sequential / run.result.seconds:.0f}x; goal: under 10s")


if __name__ == "__main__":
    main()
