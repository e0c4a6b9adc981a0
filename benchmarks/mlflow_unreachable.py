"""How long ``reconciler plan`` takes to fail against an MLflow tracking server it cannot reach.

Each case runs the real CLI in a child process (as a user or CI runs it) on a one-model project
whose mlflow target points at: a closed loopback port, a host name that does not resolve
(``.invalid``), and, with ``--mlflow-baseline``, MLflow's own client on the closed port without
the tool's probe (its default 7 retries with backoff: about four minutes). Printed per case:
wall seconds, exit code and the error line.

    .venv/bin/python benchmarks/mlflow_unreachable.py
    .venv/bin/python benchmarks/mlflow_unreachable.py --mlflow-baseline

Goal (issue 11): every case under 30 s, naming the host and the target.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def project(root: Path, uri: str) -> Path:
    (root / "manifests").mkdir(parents=True)
    (root / "manifests" / "models.yaml").write_text(
        "registered_models:\n  - name: bench.model\n    aliases: {champion: 1}\n"
    )
    (root / "reconciler.yaml").write_text(
        f'project: bench\ntargets:\n  team: {{type: mlflow, tracking_uri: "{uri}"}}\n'
    )
    return root


def timed(command: list[str]) -> tuple[float, int, str]:
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    lines = (done.stderr + done.stdout).strip().splitlines()
    errors = [line for line in lines if line.startswith("error")] or lines[-1:]
    return seconds, done.returncode, errors[0][:160] if errors else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mlflow-baseline", action="store_true", help="also time MLflow's client alone"
    )
    args = parser.parse_args()
    cases = {
        "closed port": f"http://127.0.0.1:{closed_port()}",
        "unresolvable host": "http://reconciler-bench.invalid:5000",
    }
    print(f"{'case':<34} {'seconds':>8} {'exit':>5}  error")
    with tempfile.TemporaryDirectory() as tmp:
        for i, (case, uri) in enumerate(cases.items()):
            root = project(Path(tmp) / str(i), uri)
            seconds, code, line = timed(
                [str(BIN / "reconciler"), "--project", str(root), "plan", "-t", "team"]
            )
            print(f"reconciler plan, {case:<18} {seconds:8.1f} {code:5d}  {line}")
    if args.mlflow_baseline:
        url = f"http://127.0.0.1:{closed_port()}"
        code = (
            "from mlflow import MlflowClient\n"
            f"MlflowClient({url!r}, {url!r}).get_registered_model('bench.model')\n"
        )
        seconds, status, _ = timed([sys.executable, "-c", code])
        print(f"{'MlflowClient alone, closed port':<34} {seconds:8.1f} {status:5d}  (no probe)")


if __name__ == "__main__":
    main()
