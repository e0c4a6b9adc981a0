"""An alias's approval is compared: changing only the approval plans exactly that change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from apply.e2e_helpers import edit, fast_sandbox, live_client, run, seed

CLF = "main.support.intent_classifier"


def _version_tags(project: Path, version: int) -> dict[str, str]:
    with live_client(project) as w:
        doc = w.api_client.do(
            "GET",
            "/api/2.0/mlflow/unity-catalog/model-versions/get",
            query={"name": CLF, "version": str(version)},
        )
    return {t["key"]: t.get("value", "") for t in doc["model_version"].get("tags", [])}


def test_changing_only_the_approval_plans_it_and_apply_converges(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_sandbox(monkeypatch)
    seed(example_project)
    assert run(example_project, "apply", "--auto-approve").exit_code == 0
    assert run(example_project, "plan", "--detailed-exitcode").exit_code == 0
    assert _version_tags(example_project, 2)["reconciler.approval.champion"] == "CHG-2187"

    edit(example_project / "manifests" / "models.yaml", "approval: CHG-2187", "approval: CHG-3000")
    result = run(example_project, "plan", "--format", "json")
    assert result.exit_code == 0, result.output
    changes = json.loads(result.stdout)["changes"]
    assert [(c["address"], c["action"]) for c in changes] == [
        (f"model_alias.{CLF}@champion", "update")
    ]
    assert [(d["path"], d["before"], d["after"]) for d in changes[0]["diffs"]] == [
        ("approval", "CHG-2187", "CHG-3000")
    ]
    text = run(example_project, "plan").output
    assert 'approval: "CHG-2187" → "CHG-3000"' in text

    done = run(example_project, "apply", "--auto-approve")
    assert done.exit_code == 0, done.output
    assert run(example_project, "plan", "--detailed-exitcode").exit_code == 0
    tags = _version_tags(example_project, 2)
    assert tags["reconciler.approval.champion"] == "CHG-3000"
    assert "approval CHG-3000" in tags["reconciler.promoted.champion"]


def test_an_alias_without_approval_in_the_manifest_ignores_the_live_one(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Approval is compared only when the manifest sets one."""
    fast_sandbox(monkeypatch)
    seed(example_project)
    assert run(example_project, "apply", "--auto-approve").exit_code == 0
    edit(example_project / "manifests" / "models.yaml", "{version: 2, approval: CHG-2187}", "2")
    assert run(example_project, "plan", "--detailed-exitcode").exit_code == 0
