"""Plan files at scale: how big a saved plan gets, how deep it nests, and what reading and
checking one costs (``apply PLAN_FILE`` loads it and compares it with a fresh plan).

The worst case is planned, with no workspace: every asset of ``plan_scale``'s project is a
create (the largest diffs and desired documents), planned purely against an empty live state
whose model versions are READY. Printed per size: plan file bytes, nesting depth, and the time
to save, load and compare it (``check_exact`` of the loaded file against the plan itself).

    .venv/bin/python benchmarks/plan_file_size.py                     # 1000 and 5000
    .venv/bin/python benchmarks/plan_file_size.py --sizes 100,1000,5000,20000

``reconciler/plan/planfile.py`` sets the limits from these figures (``MAX_BYTES``,
``MAX_DEPTH``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from plan_scale import mixed_project

from reconciler.manifest import load_desired_state, load_project
from reconciler.model.live import LiveState, VersionInfo
from reconciler.plan import planfile
from reconciler.plan.exact import check_exact
from reconciler.plan.planner import build_plan


def measure(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        assets = mixed_project(root, n)
        project = load_project(root)
        desired = load_desired_state(project, "bench")
        live = LiveState()
        for address in desired.resources:
            if address.startswith("registered_model."):
                model = address.split(".", 1)[1]
                for version in (1, 2):
                    live.versions[(model, version)] = VersionInfo(model, version, "READY")
        plan = build_plan(desired, live, project.targets["bench"])
        started = time.perf_counter()
        path = planfile.save(plan, Path(tmp) / "plan.json")
        saved_s = time.perf_counter() - started
        size = path.stat().st_size
        started = time.perf_counter()
        loaded = planfile.load(path)
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        check_exact(loaded, plan, str(path))
        check_s = time.perf_counter() - started
        depth = planfile.depth(json.loads(path.read_text()))
    print(
        f"{assets:>7,} assets  {len(plan.changes):>7,} changes  {size / 1e6:8.2f} MB"
        f"  depth {depth:>2}  save {saved_s:5.2f}s  load {load_s:5.2f}s  compare {check_s:5.2f}s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000", help="asset counts, comma-separated")
    args = parser.parse_args()
    print(f"limits: {planfile.MAX_BYTES / 1e6:.0f} MB, depth {planfile.MAX_DEPTH}")
    for size in (int(s) for s in args.sizes.split(",")):
        measure(size)


if __name__ == "__main__":
    main()
