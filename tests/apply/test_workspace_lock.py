"""The in-workspace lock of Databricks targets, against the sandbox's workspace-files API."""

from __future__ import annotations

import os

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound

from reconciler.apply.workspace_lock import LOCK_DIR, WorkspaceLock
from reconciler.model.errors import ApplyError
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
