"""Vector Search endpoint fields end to end on the sandbox: ``target_qps`` (set at creation,
``PATCH`` after) and ``permissions`` (the same entries as a serving endpoint's, by endpoint id):
create, change, re-plan empty."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from apply.e2e_helpers import edit, fast_sandbox, live_client, plan_exit, run, seed

FIELDS = (
    "    target_qps: 20\n"
    "    permissions:\n"
    "      - {group: support-agents, level: CAN_USE}\n"
    "      - {user: search-admin@example.com, level: CAN_MANAGE}\n"
)


def _endpoint(project: Path) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    with live_client(project) as client:
        raw = client.api_client.do("GET", "/api/2.0/vector-search/endpoints/docs-vs")
        assert isinstance(raw, dict)
        acl = client.api_client.do(
            "GET", f"/api/2.0/permissions/vector-search-endpoints/{raw['id']}"
        )
    assert isinstance(acl, dict)
    direct = sorted(
        (str(e.get("user_name") or e.get("group_name")), p["permission_level"])
        for e in acl["access_control_list"]
        for p in e["all_permissions"]
        if not p["inherited"]
    )
    return raw, direct


def test_target_qps_and_permissions_converge(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_sandbox(monkeypatch)
    search = example_project / "manifests" / "vector_search.yaml"
    edit(search, "    type: STANDARD\n", "    type: STANDARD\n" + FIELDS)
    seed(example_project)
    created = run(example_project, "apply", "--auto-approve")
    assert created.exit_code == 0, created.output
    raw, acl = _endpoint(example_project)
    assert raw["scaling_info"]["requested_target_qps"] == 20
    # The deploying identity keeps CAN_MANAGE, as on serving endpoints.
    assert acl == [
        ("sandbox-user@example.com", "CAN_MANAGE"),
        ("search-admin@example.com", "CAN_MANAGE"),
        ("support-agents", "CAN_USE"),
    ]
    code, output = plan_exit(example_project)
    assert code == 0, output

    edit(search, "target_qps: 20", "target_qps: 50")
    edit(
        search,
        "{group: support-agents, level: CAN_USE}",
        "{group: support-agents, level: CAN_CREATE}",
    )
    code, output = plan_exit(example_project)
    assert code == 2, output
    assert "vector_search_endpoint.docs-vs (update)" in output and "0 to replace" in output
    assert "target_qps: 20 → 50" in output and "permissions:" in output
    changed = run(example_project, "apply", "--auto-approve")
    assert changed.exit_code == 0, changed.output
    raw, acl = _endpoint(example_project)
    assert raw["scaling_info"]["requested_target_qps"] == 50
    assert acl == [
        ("sandbox-user@example.com", "CAN_MANAGE"),
        ("search-admin@example.com", "CAN_MANAGE"),
        ("support-agents", "CAN_CREATE"),
    ]
    code, output = plan_exit(example_project)
    assert code == 0, output
