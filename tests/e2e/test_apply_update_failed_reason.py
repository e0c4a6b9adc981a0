"""When a serving config update fails, `reconciler apply` names the cause the endpoint gives."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from apply.e2e_helpers import run

from reconciler.adapters.databricks.client import ClientSettings, sandbox_client
from reconciler.sandbox import (
    SandboxConfig,
    SandboxServer,
    register_versions_up_to,
    set_version_status,
)

CLF = "main.support.intent_classifier"


def test_apply_reports_why_the_served_version_failed(
    example_project: Path,
    sandbox_factory: Callable[..., SandboxServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = SandboxConfig.fast()
    config.delays.config_update = 0.5  # long enough to break the version mid-update
    server = sandbox_factory(config)
    project_file = example_project / "reconciler.yaml"
    doc = yaml.safe_load(project_file.read_text())
    doc["targets"]["ws"] = {"type": "databricks", "host": server.url}
    project_file.write_text(yaml.safe_dump(doc))
    monkeypatch.setenv("DATABRICKS_TOKEN", "any-token")
    monkeypatch.setenv("DATABRICKS_AUTH_TYPE", "pat")
    client = sandbox_client(server.url, ClientSettings(retry_timeout_seconds=5))
    register_versions_up_to(client, CLF, 3)
    register_versions_up_to(client, "main.support.ticket_summarizer", 1)

    def break_champion() -> None:
        """Version 2 is READY when apply checks it, and fails registration mid-update."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                state = client.api_client.do("GET", "/api/2.0/serving-endpoints/support-intent")
            except Exception:
                state = {}
            assert isinstance(state, dict)
            if (state.get("state") or {}).get("config_update") == "IN_PROGRESS":
                set_version_status(client, CLF, 2, "FAILED_REGISTRATION")
                return
            time.sleep(0.01)

    breaker = threading.Thread(target=break_champion)
    breaker.start()
    result = run(example_project, "apply", "-t", "ws", "--auto-approve")
    breaker.join()
    assert result.exit_code == 1, result.output
    failed = [
        line for line in result.output.splitlines() if "serving_endpoint.support-intent" in line
    ]
    assert any("UPDATE_FAILED" in line for line in failed), result.output
    assert any(f"{CLF} version 2 is FAILED_REGISTRATION" in line for line in failed), result.output
