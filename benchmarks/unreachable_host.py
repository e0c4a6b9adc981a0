"""How long `reconciler plan` takes to fail against a workspace it cannot reach, per cause.

    .venv/bin/python benchmarks/unreachable_host.py [--runs 3] [--read-timeout SECONDS]

Runs the real CLI (a subprocess, start-up included) against: a refused port on 127.0.0.1, a
name that does not resolve (``.invalid``), a plain-HTTP listener addressed as https (TLS
error), and a port that accepts connections but never answers (read timeout). Prints the
median wall time of each next to the start-up cost every such command pays (importing the
adapter and databricks-sdk), and the first error line.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PROJECT = """project: unreachable
default_target: local
targets:
  local: {type: sandbox}
"""
MANIFEST = """registered_models:
  - name: main.s.model
    comment: unreachable-host benchmark
"""


class _NotFound(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(root: Path, args: list[str]) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    env["DATABRICKS_TOKEN"] = "benchmark-token"
    command = [sys.executable, "-m", "reconciler", "--project", str(root), *args]
    if args[0] == "import-only":
        command = [sys.executable, "-c", "import reconciler.adapters.databricks.workspace"]
    started = time.perf_counter()
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - started
    first = (done.stderr or done.stdout).strip().splitlines()
    return seconds, first[0] if first else f"exit {done.returncode}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--read-timeout", type=float, default=None)
    options = parser.parse_args()

    plain = ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    hosts = {
        "refused": f"http://127.0.0.1:{free_port()}",
        "dns": "https://no-such-workspace.invalid",
        "tls": f"https://127.0.0.1:{plain.server_address[1]}",
        "silent": f"http://127.0.0.1:{silent.getsockname()[1]}",
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        targets = "".join(f"  {n}: {{type: databricks, host: '{h}'}}\n" for n, h in hosts.items())
        (root / "reconciler.yaml").write_text(PROJECT + targets)
        (root / "manifests").mkdir()
        (root / "manifests" / "m.yaml").write_text(MANIFEST)
        extra = ["--read-timeout", str(options.read_timeout)] if options.read_timeout else []
        cases = {"start-up (imports)": ["import-only"]}
        cases.update({name: ["plan", "-t", name, *extra] for name in hosts})
        print(f"{'case':<20} {'median s':>9} {'min s':>7}  first line")
        for name, args in cases.items():
            runs = [timed(root, args) for _ in range(options.runs)]
            seconds = [s for s, _ in runs]
            line = runs[-1][1][:110]
            print(f"{name:<20} {statistics.median(seconds):>9.2f} {min(seconds):>7.2f}  {line}")
    plain.shutdown()
    silent.close()


if __name__ == "__main__":
    main()
