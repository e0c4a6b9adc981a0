"""A `databricks` target (unified auth, in-workspace lock) pointed at a served sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from apply.e2e_helpers import run, with_databricks_target

from reconciler.adapters.databricks.client import sandbox_client
from reconciler.apply.workspace_lock import WorkspaceLock, lock_path
from reconciler.sandbox import SandboxServer


@pytest.fixture
def ws_project(
    example_project: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The example project with a `ws` target: Databricks type, host = the sandbox."""
    return with_databricks_target(example_project, sandbox.url, monkeypatch)


def test_apply_to_a_databricks_target_converges_under_the_workspace_lock(
    ws_project: Path, sandbox: SandboxServer
) -> None:
    result = run(ws_project, "apply", "-t", "ws", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert run(ws_project, "plan", "-t", "ws", "--detailed-exitcode").exit_code == 0
    client = sandbox_client(sandbox.url)
    # Released after the run: the lease file is gone.
    assert WorkspaceLock(client, project="support-assistant", target="ws").read() is None


def test_locked_databricks_target_names_the_holder(
    ws_project: Path, sandbox: SandboxServer
) -> None:
    client = sandbox_client(sandbox.url)
    with WorkspaceLock(client, project="support-assistant", target="ws"):
        refused = run(ws_project, "apply", "-t", "ws", "--auto-approve")
    assert refused.exit_code == 1
    assert "target 'ws' is locked by" in refused.output
    assert lock_path("support-assistant", "ws") in refused.output
    assert run(ws_project, "apply", "-t", "ws", "--auto-approve").exit_code == 0


def test_tampered_plan_file_is_refused_before_the_lease_is_written(
    ws_project: Path, sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a Databricks target the lock is a file written to the workspace: a plan file that
    is not what planning gives now is refused before it, so the workspace sees only reads."""
    plan_file = tmp_path / "plan.json"
    assert run(ws_project, "plan", "-t", "ws", "-o", str(plan_file)).exit_code == 0
    doc = json.loads(plan_file.read_text())
    index = next(i for i, c in enumerate(doc["changes"]) if c["action"] == "create")
    doc["changes"][index]["action"] = "update"
    doc["summary"] = {**doc["summary"], "create": doc["summary"]["create"] - 1, "update": 1}
    plan_file.write_text(json.dumps(doc))
    seen: list[tuple[str, str]] = []
    respond = sandbox.respond

    def recording(method: str, target: str, headers: Any, body: bytes) -> Any:
        seen.append((method, target))
        return respond(method, target, headers, body)

    monkeypatch.setattr(sandbox, "respond", recording)
    refused = run(ws_project, "apply", "-t", "ws", str(plan_file))
    assert refused.exit_code == 1
    assert f"change {index + 1} (" in refused.stderr
    assert "action is update in the plan file, create now" in refused.stderr
    assert seen and {method for method, _ in seen} == {"GET"}, seen
    # The untouched file applies: planned again before the lease and under it.
    assert run(ws_project, "plan", "-t", "ws", "-o", str(plan_file)).exit_code == 0
    seen.clear()
    applied = run(ws_project, "apply", "-t", "ws", str(plan_file))
    assert applied.exit_code == 0, applied.output
    assert any(target.startswith("/api/2.0/workspace/import") for _, target in seen)
