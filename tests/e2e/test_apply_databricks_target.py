"""A `databricks` target (unified auth, in-workspace lock) pointed at a served sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from apply.e2e_helpers import run

from reconciler.adapters.databricks.client import ClientSettings, sandbox_client
from reconciler.apply.workspace_lock import WorkspaceLock, lock_path
from reconciler.sandbox import SandboxServer, register_versions_up_to


@pytest.fixture
def ws_project(
    example_project: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The example project with a `ws` target: Databricks type, host = the sandbox."""
    config = yaml.safe_load((example_project / "reconciler.yaml").read_text())
    config["targets"]["ws"] = {"type": "databricks", "host": sandbox.url}
    (example_project / "reconciler.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("DATABRICKS_TOKEN", "any-token")
    monkeypatch.setenv("DATABRICKS_AUTH_TYPE", "pat")
    client = sandbox_client(sandbox.url, ClientSettings(retry_timeout_seconds=5))
    register_versions_up_to(client, "main.support.intent_classifier", 3)
    register_versions_up_to(client, "main.support.ticket_summarizer", 1)
    return example_project


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
