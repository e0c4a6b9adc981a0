"""A budget policy on a serving endpoint and a Vector Search endpoint: GET never returns the
requested ``budget_policy_id`` (only ``effective_budget_policy_id``), so apply then plan must be
empty, never a perpetual update or a replace of a production endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
from apply.e2e_helpers import edit, fast_sandbox, live_client, plan_exit, run, seed


def test_budget_policies_converge_although_get_never_returns_them(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_sandbox(monkeypatch)
    manifests = example_project / "manifests"
    edit(
        manifests / "serving.yaml",
        "  - name: support-intent\n",
        "  - name: support-intent\n    budget_policy_id: bp-serving\n",
    )
    edit(
        manifests / "vector_search.yaml",
        "  - name: docs-vs\n",
        "  - name: docs-vs\n    budget_policy_id: bp-search\n",
    )
    seed(example_project)
    result = run(example_project, "apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    with live_client(example_project) as client:
        serving = client.api_client.do("GET", "/api/2.0/serving-endpoints/support-intent")
        search = client.api_client.do("GET", "/api/2.0/vector-search/endpoints/docs-vs")
    assert isinstance(serving, dict) and isinstance(search, dict)
    assert "budget_policy_id" not in serving and "budget_policy_id" not in search
    assert serving["effective_budget_policy_id"] == "bp-serving"
    assert search["effective_budget_policy_id"] == "bp-search"
    code, output = plan_exit(example_project)
    assert code == 0, output
