"""Import round trip of every GenAI field on the sandbox: a project with an external model
endpoint (secret references), a provisioned-throughput endpoint, endpoint descriptions and
notifications, served-entity settings, Unity Catalog grants, Vector Search endpoint permissions
and target QPS is applied; its manifests are thrown away and imported back; the plan is empty."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from apply.e2e_helpers import edit, fast_sandbox, plan_exit, run, seed

GRANTS = "    grants:\n      - {group: support-agents, privileges: [EXECUTE]}\n"
ENDPOINT_FIELDS = (
    "    description: Routes support tickets\n"
    "    email_notifications: {on_update_failure: [oncall@example.com]}\n"
)
MORE_ENDPOINTS = """
  - name: support-drafts
    served_entities:
      - name: gpt
        external_model:
          name: gpt-4o
          provider: openai
          task: llm/v1/chat
          openai_config: {openai_api_key: "{{secrets/llm/openai}}"}
  - name: support-llm
    served_entities:
      - name: llama
        entity: system.ai.meta_llama_v3_1_8b_instruct
        version: 3
        min_provisioned_throughput: 0
        max_provisioned_throughput: 1850
  - name: support-embed
    served_entities:
      - name: gte
        entity: system.ai.gte_large_en_v1_5
        version: 2
        provisioned_model_units: 10
"""
RERANKER = (
    "\n  - name: main.support.reranker\n    comment: Reranks retrieved docs\n"
    "    storage_location: s3://ml-models/support/reranker\n"
)
VS_FIELDS = "    target_qps: 15\n    permissions: [{group: support-agents, level: CAN_USE}]\n"
INDEX_GRANTS = "    grants: [{group: support-agents, privileges: [SELECT]}]\n"


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def test_every_new_field_round_trips_through_import(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_sandbox(monkeypatch)
    manifests = example_project / "manifests"
    edit(manifests / "models.yaml", "      challenger: 3\n", "      challenger: 3\n" + GRANTS)
    models_file = manifests / "models.yaml"
    models_file.write_text(models_file.read_text() + RERANKER)
    serving = manifests / "serving.yaml"
    edit(serving, "  - name: support-intent\n", "  - name: support-intent\n" + ENDPOINT_FIELDS)
    edit(
        serving,
        "        workload_size: Small\n",
        "        workload_size: Small\n"
        "        instance_profile_arn: arn:aws:iam::123456789012:instance-profile/serving\n",
    )
    serving.write_text(serving.read_text() + MORE_ENDPOINTS)
    search = manifests / "vector_search.yaml"
    edit(search, "    type: STANDARD\n", "    type: STANDARD\n" + VS_FIELDS)
    edit(search, "    primary_key: doc_id\n", "    primary_key: doc_id\n" + INDEX_GRANTS)
    seed(example_project)
    applied = run(example_project, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output

    shutil.rmtree(manifests)
    imported = run(example_project, "import", "--out", "manifests")
    assert imported.exit_code == 0, imported.output
    assert "secrets/" not in imported.output
    assert "skipped registered_model.system.ai" in imported.output
    code, output = plan_exit(example_project)
    assert code == 0, output

    endpoints = {
        e["name"]: e for e in _load(manifests / "serving_endpoints.yaml")["serving_endpoints"]
    }
    intent = endpoints["support-intent"]
    assert intent["description"] == "Routes support tickets"
    assert intent["email_notifications"] == {"on_update_failure": ["oncall@example.com"]}
    champion = next(e for e in intent["served_entities"] if e["name"] == "champion")
    assert champion["instance_profile_arn"].endswith("instance-profile/serving")
    (gpt,) = endpoints["support-drafts"]["served_entities"]
    assert gpt["external_model"]["openai_config"] == {"openai_api_key": "{{secrets/llm/openai}}"}
    (llama,) = endpoints["support-llm"]["served_entities"]
    assert (llama["entity"], llama["version"], llama["max_provisioned_throughput"]) == (
        "system.ai.meta_llama_v3_1_8b_instruct",
        3,
        1850,
    )
    models = {
        m["name"]: m for m in _load(manifests / "registered_models.yaml")["registered_models"]
    }
    assert models["main.support.intent_classifier"]["grants"] == [
        {"group": "support-agents", "privileges": ["EXECUTE"]}
    ]
    (vs,) = _load(manifests / "vector_search_endpoints.yaml")["vector_search_endpoints"]
    assert vs["target_qps"] == 15
    assert {"group": "support-agents", "level": "CAN_USE"} in vs["permissions"]
    (index,) = _load(manifests / "vector_indexes.yaml")["vector_indexes"]
    assert index["grants"] == [{"group": "support-agents", "privileges": ["SELECT"]}]
