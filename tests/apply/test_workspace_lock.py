"""The in-workspace lock of Databricks targets, against the sandbox's workspace-files API."""

from __future__ import annotations

import base64
import dataclasses
import os
import subprocess
import sys
import time

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound
from databricks.sdk.service.workspace import ImportFormat

from reconciler.apply.holder import Holder
from reconciler.apply.workspace_lock import LOCK_DIR, WorkspaceLock
from reconciler.model.errors import ApplyError
from reconciler.runtime.logs import configure_logging
from reconciler.sandbox import SandboxServer

from .sdk_workspace import client_for


def files_api(sandbox: SandboxServer) -> WorkspaceClient:
    client = client_for(sandbox.url)
    try:
        client.workspace.mkdirs(LOCK_DIR)
    except NotFound:
        pytest.skip(
            "note: the sandbox serves no workspace-files API (/api/2.0/workspace) yet, so the"
            " Databricks lock is exercised only against a real workspace"
        )
    return client


def test_second_holder_is_refused_naming_the_first(sandbox: SandboxServer) -> None:
    client = files_api(sandbox)
    with WorkspaceLock(client, project="p", target="prod"):
        with pytest.raises(ApplyError) as info, WorkspaceLock(client, project="p", target="prod"):
            pass
        assert f"(pid {os.getpid()})" in str(info.value)
    with WorkspaceLock(client, project="p", target="prod") as again:
        assert again.read() is not None
    assert WorkspaceLock(client, project="p", target="prod").read() is None


def test_an_expired_lease_is_taken_over(sandbox: SandboxServer) -> None:
    client = files_api(sandbox)
    crashed = WorkspaceLock(client, project="p", target="prod", lease=0.01).__enter__()
    crashed._stop.set()  # the holder died: no heartbeat, no release
    with WorkspaceLock(client, project="p", target="prod", timeout=5) as taker:
        assert taker.holder is not None and crashed.holder is not None
        assert taker.holder.token != crashed.holder.token


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped) on this host."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    return proc.pid


def plant(client: WorkspaceClient, **changes: object) -> Holder:
    """Write a lease as another apply would have left it (its process may be gone)."""
    holder = dataclasses.replace(Holder.me(expires_in=900), **changes)  # type: ignore[arg-type]
    WorkspaceLock(client, project="p", target="prod")._write(holder, overwrite=True)
    return holder


def test_a_lease_whose_holder_died_on_this_host_is_taken_over_at_once(
    sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    client = files_api(sandbox)
    configure_logging("json")
    pid = dead_pid()
    planted = plant(client, pid=pid, started="1")
    started = time.monotonic()
    with WorkspaceLock(client, project="p", target="prod") as taker:  # timeout 0
        assert taker.holder is not None and taker.holder.token != planted.token
        assert taker.read() == taker.holder
    assert time.monotonic() - started < 5
    line = next(x for x in capsys.readouterr().err.splitlines() if "taken over" in x)
    assert f"pid {pid} is no longer running" in line and "prod" in line


def test_a_live_holder_is_waited_for_then_refused_with_its_expiry(
    sandbox: SandboxServer,
) -> None:
    client = files_api(sandbox)
    with WorkspaceLock(client, project="p", target="prod"):
        started = time.monotonic()
        with (
            pytest.raises(ApplyError) as info,
            WorkspaceLock(client, project="p", target="prod", timeout=1.5),
        ):
            pass
        assert time.monotonic() - started >= 1.5
    message = str(info.value)
    assert f"(pid {os.getpid()})" in message
    assert "the lease expires at " in message and "(in 15 min)" in message
    assert "waited 2s" in message or "waited 1s" in message


def test_a_lease_from_another_host_is_not_taken_over_before_it_expires(
    sandbox: SandboxServer,
) -> None:
    client = files_api(sandbox)
    plant(client, host="ci-runner-7", pid=dead_pid())
    with pytest.raises(ApplyError) as info, WorkspaceLock(client, project="p", target="prod"):
        pass
    assert "on ci-runner-7" in str(info.value)
    assert "reconciler unlock -t prod" in (info.value.hint or "")


def test_unlock_releases_a_lease_held_elsewhere_and_reports_a_free_one(
    sandbox: SandboxServer,
) -> None:
    client = files_api(sandbox)
    lock = WorkspaceLock(client, project="p", target="prod")
    assert lock.unlock() is None
    planted = plant(client, host="ci-runner-7")
    found = lock.unlock()
    assert found is not None and found[0] == planted
    assert "ci-runner-7" in found[1]
    assert lock.read() is None


def test_unlock_refuses_a_live_holder_on_this_host_unless_forced(sandbox: SandboxServer) -> None:
    client = files_api(sandbox)
    with WorkspaceLock(client, project="p", target="prod") as held:
        with pytest.raises(ApplyError, match="still running"):
            WorkspaceLock(client, project="p", target="prod").unlock()
        assert held.read() == held.holder
        found = WorkspaceLock(client, project="p", target="prod").unlock(force=True)
        assert found is not None and found[0] == held.holder and found[1].startswith("forced")
        assert held.read() is None


def test_unlock_removes_an_unreadable_lease(sandbox: SandboxServer) -> None:
    client = files_api(sandbox)
    lock = WorkspaceLock(client, project="p", target="prod")
    client.workspace.import_(
        lock.path,
        content=base64.b64encode(b"not json").decode(),
        format=ImportFormat.AUTO,
        overwrite=True,
    )
    assert lock.unlock() == (None, "the lease file could not be read")
    with WorkspaceLock(client, project="p", target="prod"):
        pass
