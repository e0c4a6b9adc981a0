"""Unity Catalog grants end to end on the sandbox, on a registered model (FUNCTION) and a vector
index (TABLE): created with their securables, changed in place, authoritative for the principals
named, others' grants left alone, and a removed entry revokes only what this project granted (the
record beside the securable says what that was)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from apply.e2e_helpers import edit, fast_sandbox, live_client, plan_exit, run, seed
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.catalog import PermissionsChange, Privilege

MODEL = "main.support.intent_classifier"
INDEX = "main.support.docs_index"
SP = "6f1c6b2e-0d3a-4c8e-9b1a-2f6e8d7c5a41"
MODEL_GRANTS = (
    "    grants:\n"
    "      - {group: support-agents, privileges: [EXECUTE]}\n"
    f"      - {{service_principal: {SP}, privileges: [EXECUTE, APPLY_TAG]}}\n"
)
INDEX_GRANTS = "    grants:\n      - {group: support-agents, privileges: [SELECT]}\n"


def _grants(client: WorkspaceClient, kind: str, name: str) -> dict[str, list[str]]:
    found = client.grants.get(kind, name)
    return {
        str(a.principal): sorted(p.value for p in a.privileges or [])
        for a in found.privilege_assignments or []
    }


def _by_hand(client: WorkspaceClient, kind: str, name: str, who: str, *add: str) -> None:
    change = PermissionsChange(principal=who, add=[Privilege(p) for p in add])
    client.grants.update(kind, name, changes=[change])


def test_grants_on_models_and_indexes(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_sandbox(monkeypatch)
    manifests = example_project / "manifests"
    models, search = manifests / "models.yaml", manifests / "vector_search.yaml"
    edit(models, "      challenger: 3\n", "      challenger: 3\n" + MODEL_GRANTS)
    edit(search, "    primary_key: doc_id\n", "    primary_key: doc_id\n" + INDEX_GRANTS)
    seed(example_project)
    created = run(example_project, "apply", "--auto-approve")
    assert created.exit_code == 0, created.output
    with live_client(example_project) as client:
        assert _grants(client, "FUNCTION", MODEL) == {
            "support-agents": ["EXECUTE"],
            SP: ["APPLY_TAG", "EXECUTE"],
        }
        assert _grants(client, "TABLE", INDEX) == {"support-agents": ["SELECT"]}
        # Others grant by hand: new principals, and more to a principal the manifest names.
        _by_hand(client, "FUNCTION", MODEL, "data-eng", "MANAGE")
        _by_hand(client, "FUNCTION", MODEL, "support-agents", "APPLY_TAG")
        _by_hand(client, "FUNCTION", MODEL, SP, "MANAGE")
        _by_hand(client, "TABLE", INDEX, "auditors", "SELECT")
    code, output = plan_exit(example_project)
    assert code == 2, output
    assert f"registered_model.{MODEL} (update)" in output
    assert 'grants.support-agents: ["APPLY_TAG", "EXECUTE"] → ["EXECUTE"]' in output
    assert f'grants.{SP}: ["APPLY_TAG", "EXECUTE", "MANAGE"] → ["APPLY_TAG", "EXECUTE"]' in output
    assert "data-eng" not in output and "auditors" not in output
    assert run(example_project, "apply", "--auto-approve").exit_code == 0
    code, output = plan_exit(example_project)
    assert code == 0, output

    # Changes in place, on both securables.
    edit(
        models,
        "{group: support-agents, privileges: [EXECUTE]}",
        "{group: support-agents, privileges: [EXECUTE, MANAGE]}",
    )
    edit(
        search,
        "{group: support-agents, privileges: [SELECT]}",
        "{group: search-team, privileges: [SELECT, MODIFY]}",
    )
    code, output = plan_exit(example_project)
    assert code == 2 and "0 to replace" in output, output
    assert f"vector_index.{INDEX} (update)" in output
    assert 'grants.support-agents: ["SELECT"] → (none)' in output
    applied = run(example_project, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    with live_client(example_project) as client:
        assert _grants(client, "FUNCTION", MODEL) == {
            "data-eng": ["MANAGE"],
            "support-agents": ["EXECUTE", "MANAGE"],
            SP: ["APPLY_TAG", "EXECUTE"],
        }
        assert _grants(client, "TABLE", INDEX) == {
            "auditors": ["SELECT"],
            "search-team": ["MODIFY", "SELECT"],
        }
        tags = client.api_client.do(
            "GET", "/api/2.1/unity-catalog/securable-tags/FUNCTION/" + MODEL
        )
        assert isinstance(tags, dict)
        record = {t["key"]: t.get("value") for t in tags["tags"]}[
            "reconciler.grants.support-assistant"
        ]
        assert json.loads(record) == {
            "support-agents": ["EXECUTE", "MANAGE"],
            SP: ["APPLY_TAG", "EXECUTE"],
        }
        # The service principal gets MANAGE by hand again, outside the manifest's say.
        _by_hand(client, "FUNCTION", MODEL, SP, "MANAGE")
    assert run(example_project, "apply", "--auto-approve").exit_code == 0  # back to the list

    # A removed entry revokes only what this project granted.
    edit(models, f"      - {{service_principal: {SP}, privileges: [EXECUTE, APPLY_TAG]}}\n", "")
    with live_client(example_project) as client:
        _by_hand(client, "FUNCTION", MODEL, SP, "MANAGE")
    code, output = plan_exit(example_project)
    assert code == 2, output
    assert f'grants.{SP}: ["APPLY_TAG", "EXECUTE", "MANAGE"] → ["MANAGE"]' in output
    assert run(example_project, "apply", "--auto-approve").exit_code == 0
    with live_client(example_project) as client:
        assert _grants(client, "FUNCTION", MODEL) == {
            "data-eng": ["MANAGE"],
            "support-agents": ["EXECUTE", "MANAGE"],
            SP: ["MANAGE"],
        }
    code, output = plan_exit(example_project)
    assert code == 0, output
