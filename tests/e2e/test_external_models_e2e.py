"""An external model endpoint end to end on the sandbox: created with a secret reference, its
provider config changed in place, then switched to another provider; a switch to a Unity
Catalog model is a replace that says why. Every re-plan after apply is empty."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from apply.e2e_helpers import edit, fast_sandbox, live_entities, plan_exit, run, seed

from reconciler.model.secrets import PLACEHOLDER

CHAT = """
  - name: support-triage
    served_entities:
      - name: gpt
        external_model:
          name: gpt-4o
          provider: openai
          task: llm/v1/chat
          openai_config:
            openai_api_key: "{{secrets/llm/openai}}"
            openai_organization: org-support
    ai_gateway: {usage_tracking: true}
"""


def _external(project: Path) -> dict[str, Any]:
    (entity,) = live_entities(project, "support-triage").values()
    return entity


def test_external_model_endpoint_create_change_switch(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_sandbox(monkeypatch)
    serving = example_project / "manifests" / "serving.yaml"
    serving.write_text(serving.read_text() + CHAT)
    seed(example_project)
    created = run(example_project, "apply", "--auto-approve")
    assert created.exit_code == 0, created.output
    assert "secrets/" not in created.output
    entity = _external(example_project)
    assert entity["external_model"]["openai_config"] == {
        "openai_api_key": "{{secrets/llm/openai}}",
        "openai_organization": "org-support",
    }
    code, output = plan_exit(example_project)
    assert code == 0, output

    # A provider setting changes in place (a config update).
    edit(serving, "openai_organization: org-support", "openai_organization: org-platform")
    code, output = plan_exit(example_project)
    assert code == 2 and "serving_endpoint.support-triage (update)" in output, output
    assert run(example_project, "apply", "--auto-approve").exit_code == 0
    assert _external(example_project)["external_model"]["openai_config"]["openai_organization"] == (
        "org-platform"
    )
    code, output = plan_exit(example_project)
    assert code == 0, output

    # Another provider: still an external model, still in place.
    edit(
        serving,
        "          name: gpt-4o\n          provider: openai\n          task: llm/v1/chat\n"
        "          openai_config:\n"
        '            openai_api_key: "{{secrets/llm/openai}}"\n'
        "            openai_organization: org-platform\n",
        "          name: claude-sonnet\n          provider: anthropic\n"
        "          task: llm/v1/chat\n          anthropic_config:\n"
        '            anthropic_api_key: "{{secrets/llm/anthropic}}"\n',
    )
    code, output = plan_exit(example_project)
    assert code == 2 and "(update)" in output, output
    assert "secrets/" not in output and PLACEHOLDER.search(output)
    assert run(example_project, "apply", "--auto-approve").exit_code == 0
    assert _external(example_project)["external_model"]["provider"] == "anthropic"
    code, output = plan_exit(example_project)
    assert code == 0, output

    # Switching to a Unity Catalog model cannot happen in place.
    start = serving.read_text().index("        external_model:\n          name: claude")
    end = serving.read_text().index("    ai_gateway: {usage_tracking: true}\n", start)
    text = serving.read_text()
    serving.write_text(
        text[:start]
        + "        entity: ${var.catalog}.support.intent_classifier@champion\n"
        + "        workload_size: Small\n"
        + text[end:]
    )
    code, output = plan_exit(example_project)
    assert code == 2, output
    assert "serving_endpoint.support-triage (replace)" in output
    assert "reason: serves cannot change in place" in output
    replaced = run(example_project, "apply", "--auto-approve", "--allow-delete")
    assert replaced.exit_code == 0, replaced.output
    assert _external(example_project)["entity_name"] == "main.support.intent_classifier"
    code, output = plan_exit(example_project)
    assert code == 0, output
