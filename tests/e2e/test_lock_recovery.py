"""Locks recover: a killed apply never blocks the next one on the same host, and
``reconciler unlock`` releases what only a person can judge (a lease left on another host).

The Databricks target here is a `type: databricks` target whose host is a sandbox served on
loopback, so the lease lives in the sandbox's workspace-files API, as on a real workspace.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from apply.e2e_helpers import run, seed, state_dir, with_databricks_target

from reconciler.adapters.databricks.client import sandbox_client
from reconciler.apply.holder import Holder
from reconciler.apply.lock import FileLock
from reconciler.apply.workspace_lock import LOCK_DIR, WorkspaceLock
from reconciler.sandbox import SandboxConfig, SandboxServer
from reconciler.sandbox.config import Delays, Faults

PROJECT = "support-assistant"


@pytest.fixture
def served(sandbox_factory: Callable[..., SandboxServer]) -> SandboxServer:
    """A sandbox whose serving endpoints take seconds to get ready: time to kill an apply."""
    return sandbox_factory(SandboxConfig(delays=Delays.fast(), faults=Faults(slow_readiness=3)))


@pytest.fixture
def ws_project(
    example_project: Path, served: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> Path:
    return with_databricks_target(example_project, served.url, monkeypatch)


def lease(served: SandboxServer) -> WorkspaceLock:
    client = sandbox_client(served.url)
    client.workspace.mkdirs(LOCK_DIR)
    return WorkspaceLock(client, project=PROJECT, target="ws")


def kill_apply_while_waiting(project: Path) -> int:
    """Run ``apply -t ws`` in its own process; SIGKILL it at its first wait. Its pid."""
    cmd = [sys.executable, "-m", "reconciler", "--project", str(project), "--log-format", "json"]
    proc = subprocess.Popen(
        [*cmd, "apply", "-t", "ws", "--auto-approve"],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("{") and json.loads(line).get("event") == "apply.waiting":
            proc.kill()
            break
    proc.wait(timeout=30)
    assert proc.returncode == -9, "the apply ended before it waited"
    return proc.pid


def test_after_a_killed_apply_the_next_apply_proceeds_at_once(
    ws_project: Path, served: SandboxServer
) -> None:
    pid = kill_apply_while_waiting(ws_project)
    left = lease(served).read()
    assert left is not None and left.pid == pid, "the killed apply left its lease behind"
    started = time.monotonic()
    rerun = run(ws_project, "apply", "-t", "ws", "--auto-approve")  # --lock-timeout 0
    assert rerun.exit_code == 0, rerun.output
    assert time.monotonic() - started < 120  # not the 15-minute lease
    assert "apply lock taken over" in rerun.output
    assert f"pid {pid} is no longer running" in rerun.output
    assert lease(served).read() is None
    assert run(ws_project, "plan", "-t", "ws", "--detailed-exitcode").exit_code == 0


def test_unlock_releases_a_lease_left_on_another_host(
    ws_project: Path, served: SandboxServer
) -> None:
    elsewhere = dataclasses.replace(
        Holder.me(expires_in=900), holder="ci", host="ci-runner-7", pid=4121
    )
    lease(served)._write(elsewhere, overwrite=True)
    refused = run(ws_project, "apply", "-t", "ws", "--auto-approve")
    assert refused.exit_code == 1
    assert "locked by ci on ci-runner-7 (pid 4121)" in refused.output
    assert "the lease expires at " in refused.output and "(in 15 min)" in refused.output
    assert "reconciler unlock -t ws" in refused.output

    unlocked = run(ws_project, "unlock", "-t", "ws")
    assert unlocked.exit_code == 0, unlocked.output
    assert "Released the apply lock of target 'ws'" in unlocked.output
    assert "held by ci on ci-runner-7 (pid 4121)" in unlocked.output
    assert lease(served).read() is None
    assert run(ws_project, "apply", "-t", "ws", "--auto-approve").exit_code == 0

    free = run(ws_project, "unlock", "-t", "ws")
    assert free.exit_code == 0
    assert "Target 'ws' is not locked" in free.output


def test_unlock_refuses_a_live_holder_on_this_host_unless_forced(
    ws_project: Path, served: SandboxServer
) -> None:
    with lease(served) as held:
        refused = run(ws_project, "unlock", "-t", "ws")
        assert refused.exit_code == 1
        assert "still running" in refused.output and "--force" in refused.output
        assert held.read() == held.holder
        forced = run(ws_project, "unlock", "-t", "ws", "--force")
        assert forced.exit_code == 0, forced.output
        assert f"(pid {os.getpid()})" in forced.output
        assert held.read() is None


def test_lock_timeout_waits_for_a_live_holder_then_fails_clearly(
    ws_project: Path, served: SandboxServer
) -> None:
    with lease(served):
        started = time.monotonic()
        waited = run(ws_project, "apply", "-t", "ws", "--auto-approve", "--lock-timeout", "2")
        assert time.monotonic() - started >= 2
    assert waited.exit_code == 1
    assert "target 'ws' is locked by" in waited.output
    assert "the lease expires at " in waited.output
    assert "waited 2s" in waited.output or "waited 3s" in waited.output


def test_unlock_of_a_local_target(example_project: Path) -> None:
    seed(example_project)
    free = run(example_project, "unlock")
    assert free.exit_code == 0
    assert "Target 'sandbox' is not locked" in free.output
    lock = FileLock(state_dir(example_project) / "apply.lock", target="sandbox").__enter__()
    try:
        refused = run(example_project, "unlock")
        assert refused.exit_code == 1
        assert "still running" in refused.output
        forced = run(example_project, "unlock", "--force")
        assert forced.exit_code == 0, forced.output
        assert f"(pid {os.getpid()})" in forced.output
        assert not (state_dir(example_project) / "apply.lock").exists()
        # The next apply takes a new lock file at once.
        assert run(example_project, "apply", "--auto-approve").exit_code == 0
    finally:
        lock.__exit__(None, None, None)
