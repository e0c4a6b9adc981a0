"""Adoption end to end: an asset made by hand that a manifest declares is shown as ``adopt``,
applied (its diffs, then the marker), and only then is it this project's (prune can delete
it). An asset another project owns is refused at plan time, naming that project."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from apply.e2e_helpers import run
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import vectorsearch

from reconciler.model.live import OWNER_TAG
from reconciler.sandbox import SandboxServer

VS = """vector_search_endpoints:
  - name: hand-vs
    tags: {team: search}
"""


def make_project(root: Path, name: str, host: str, manifest: str) -> Path:
    (root / "manifests").mkdir(parents=True)
    (root / "reconciler.yaml").write_text(
        f"project: {name}\ndefault_target: ws\n"
        f"targets:\n  ws: {{type: databricks, host: '{host}', prune: true}}\n"
    )
    (root / "manifests" / "main.yaml").write_text(manifest)
    return root


@pytest.fixture(autouse=True)
def _pat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_TOKEN", "any-token")
    monkeypatch.setenv("DATABRICKS_AUTH_TYPE", "pat")


def plan_doc(project: Path) -> dict[str, Any]:
    result = run(project, "plan", "--format", "json")
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def tags(sdk: WorkspaceClient, name: str) -> dict[str, str]:
    endpoint = sdk.vector_search_endpoints.get_endpoint(name)
    return {t.key: t.value or "" for t in endpoint.custom_tags or [] if t.key}


def test_hand_made_endpoint_is_adopted_visibly_and_only_then_pruned(
    tmp_path: Path, sandbox: SandboxServer, sdk: WorkspaceClient
) -> None:
    sdk.vector_search_endpoints.create_endpoint_and_wait(
        "hand-vs", vectorsearch.EndpointType.STANDARD
    )
    project = make_project(tmp_path / "a", "alpha", sandbox.url, VS)

    doc = plan_doc(project)
    (change,) = doc["changes"]
    assert change["action"] == "adopt" and change["address"] == "vector_search_endpoint.hand-vs"
    assert change["diffs"] == [{"path": "tags.team", "before": None, "after": "search"}]
    assert doc["summary"]["adopt"] == 1
    text = run(project, "plan").stdout
    assert "<= 1 ASSET TO ADOPT" in text and "<= vector_search_endpoint.hand-vs (adopt)" in text

    # Not adopted yet: leaving the manifests plans no delete (nobody owns it).
    (project / "manifests" / "main.yaml").write_text("vector_search_endpoints: []\n")
    assert plan_doc(project)["changes"] == []

    (project / "manifests" / "main.yaml").write_text(VS)
    applied = run(project, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    marked = tags(sdk, "hand-vs")
    assert marked["team"] == "search" and marked[OWNER_TAG] == "alpha"
    assert plan_doc(project)["changes"] == []

    # Adopted: now it is the project's own, and leaving the manifests plans its delete.
    (project / "manifests" / "main.yaml").write_text("vector_search_endpoints: []\n")
    (delete,) = plan_doc(project)["changes"]
    assert (delete["address"], delete["action"]) == ("vector_search_endpoint.hand-vs", "delete")


def test_asset_owned_by_another_project_is_refused_naming_it(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    alpha = make_project(tmp_path / "a", "alpha", sandbox.url, VS)
    assert run(alpha, "apply", "--auto-approve").exit_code == 0
    beta = make_project(tmp_path / "b", "beta", sandbox.url, VS)
    refused = run(beta, "plan")
    assert refused.exit_code == 1
    assert "vector_search_endpoint.hand-vs is owned by project 'alpha'" in refused.stderr
    assert "main.yaml:2:" in refused.stderr
    applied = run(beta, "apply", "--auto-approve")
    assert applied.exit_code == 1 and "owned by project 'alpha'" in applied.stderr
