"""Start-up: how long ``reconciler --help``, ``validate`` and ``plan`` take on the example
project (its ``sandbox`` target: the embedded sandbox, seeded with the versions the manifests
name), each as a fresh process, as a user runs them.

    .venv/bin/python benchmarks/startup.py [--runs 21]

Printed per command: the median wall time and the median CPU time (user + system) of the
process. Wall time depends on what else the machine runs; CPU time much less, so both are
shown, with the load average. Bytecode caches are written by a warm-up run first (an
installed package has them; PYTHONDONTWRITEBYTECODE, if set, would otherwise make every run
compile every module). Goals (issue 14): ``plan`` under 1.0 s, ``validate`` and ``--help``
under 0.3 s (medians).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMANDS = {"--help": ["--help"], "validate": ["validate"], "plan": ["plan"]}


def copy_example(dest: Path) -> Path:
    dest.mkdir(parents=True)
    shutil.copy2(REPO / "reconciler.yaml", dest / "reconciler.yaml")
    shutil.copytree(REPO / "manifests", dest / "manifests")
    return dest


def run(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one ``reconciler ARGS`` process."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 2):
        raise SystemExit(f"reconciler {' '.join(args)} failed ({code}): {err.decode()[-1000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    warm = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as tmp:
        project = copy_example(Path(tmp) / "example")
        run(["sandbox", "seed"], project, warm)
        for command in COMMANDS.values():
            run(command, project, warm)  # warm-up: writes bytecode caches
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; {args.runs} runs")
        print(f"{'command':>10} {'wall median':>12} {'cpu median':>11} {'wall min':>9}")
        for name, command in COMMANDS.items():
            samples = [run(command, project, env) for _ in range(args.runs)]
            walls = [w for w, _ in samples]
            cpus = [c for _, c in samples]
            print(
                f"{name:>10} {statistics.median(walls):11.3f}s {statistics.median(cpus):10.3f}s"
                f" {min(walls):8.3f}s",
                flush=True,
            )


if __name__ == "__main__":
    main()
