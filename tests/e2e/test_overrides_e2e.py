"""Per-target overrides end to end: the sandbox target gets its own sizing and notifications from
a ``targets:`` section and from ``reconciler.yaml``, apply writes them, re-plan is empty; the
same manifests validate to the base values on other targets."""

from __future__ import annotations

from pathlib import Path

import pytest
from apply.e2e_helpers import edit, fast_sandbox, live_endpoint, plan_exit, run, seed

from reconciler.manifest import load_desired_state, load_project

SECTION = """
targets:
  sandbox:
    serving_endpoints:
      support-intent:
        served_entities:
          - {name: champion, workload_size: Medium}
        traffic: {champion: 80, challenger: 20}
"""
PROJECT_OVERRIDE = """    overrides:
      serving_endpoints:
        support-intent:
          email_notifications: {on_update_failure: [sandbox-alerts@example.com]}
"""


def test_overrides_apply_to_their_target_only(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_sandbox(monkeypatch)
    serving = example_project / "manifests" / "serving.yaml"
    serving.write_text(serving.read_text() + SECTION)
    edit(
        example_project / "reconciler.yaml",
        "  sandbox:\n    type: sandbox\n",
        "  sandbox:\n    type: sandbox\n" + PROJECT_OVERRIDE,
    )
    seed(example_project)
    applied = run(example_project, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    raw = live_endpoint(example_project, "support-intent")
    sizes = {e["name"]: e.get("workload_size") for e in raw["config"]["served_entities"]}
    assert sizes["champion"] == "Medium"
    routes = {
        r["served_entity_name"]: r["traffic_percentage"]
        for r in raw["config"]["traffic_config"]["routes"]
    }
    assert routes == {"champion": 80, "challenger": 20}
    assert raw["email_notifications"] == {"on_update_failure": ["sandbox-alerts@example.com"]}
    code, output = plan_exit(example_project)
    assert code == 0, output

    project = load_project(example_project)
    prod = load_desired_state(project, "prod").resources["serving_endpoint.support-intent"]
    doc = prod.spec.doc()
    assert doc["served_entities"][0]["workload_size"] == "Small"
    assert doc["traffic"] == {"champion": 90, "challenger": 10}
    assert "email_notifications" not in doc

    # Changing an override is a change like any other, on its target.
    edit(
        serving, "{name: champion, workload_size: Medium}", "{name: champion, workload_size: Large}"
    )
    code, output = plan_exit(example_project)
    assert code == 2 and 'served_entities.champion.workload_size: "Medium" → "Large"' in output
    assert run(example_project, "apply", "--auto-approve").exit_code == 0
    code, output = plan_exit(example_project)
    assert code == 0, output
