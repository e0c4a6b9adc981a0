"""Endpoint fields end to end on the sandbox: ``email_notifications`` changes in place
(``PATCH .../notifications``); ``description`` is set at creation, so a change is a replace that
says why, refused without --allow-delete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from apply.e2e_helpers import edit, fast_sandbox, live_endpoint, plan_exit, run, seed


def _endpoint(project: Path) -> dict[str, Any]:
    return live_endpoint(project, "support-intent")


def test_email_notifications_and_description(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_sandbox(monkeypatch)
    serving = example_project / "manifests" / "serving.yaml"
    edit(
        serving,
        "  - name: support-intent\n",
        "  - name: support-intent\n    description: Routes support tickets\n"
        "    email_notifications:\n"
        "      on_update_failure: [oncall@example.com, ml-team@example.com]\n",
    )
    seed(example_project)
    created = run(example_project, "apply", "--auto-approve")
    assert created.exit_code == 0, created.output
    live = _endpoint(example_project)
    assert live["description"] == "Routes support tickets"
    assert sorted(live["email_notifications"]["on_update_failure"]) == [
        "ml-team@example.com",
        "oncall@example.com",
    ]
    code, output = plan_exit(example_project)
    assert code == 0, output

    # Notifications change in place, and a list left out is emptied.
    edit(
        serving,
        "      on_update_failure: [oncall@example.com, ml-team@example.com]\n",
        "      on_update_success: [releases@example.com]\n",
    )
    code, output = plan_exit(example_project)
    assert code == 2, output
    assert "(update)" in output and "0 to replace" in output
    assert "email_notifications.on_update_failure" in output
    assert "email_notifications.on_update_success" in output
    changed = run(example_project, "apply", "--auto-approve")
    assert changed.exit_code == 0, changed.output
    live = _endpoint(example_project)
    assert live["email_notifications"] == {"on_update_success": ["releases@example.com"]}
    first_id = live["id"]
    code, output = plan_exit(example_project)
    assert code == 0, output

    # The description is set at creation: a change replaces the endpoint, and says why.
    edit(serving, "description: Routes support tickets", "description: Routes every ticket")
    code, output = plan_exit(example_project)
    assert code == 2, output
    assert "serving_endpoint.support-intent (replace)" in output
    assert "reason: description cannot change in place" in output
    refused = run(example_project, "apply", "--auto-approve")
    assert refused.exit_code == 1 and "--allow-delete" in refused.output
    assert _endpoint(example_project)["description"] == "Routes support tickets"
    replaced = run(example_project, "apply", "--auto-approve", "--allow-delete")
    assert replaced.exit_code == 0, replaced.output
    live = _endpoint(example_project)
    assert live["description"] == "Routes every ticket"
    assert live["id"] != first_id
    assert live["email_notifications"] == {"on_update_success": ["releases@example.com"]}
    code, output = plan_exit(example_project)
    assert code == 0, output
