"""Keep the deployer's access: the identity running apply keeps CAN_MANAGE on the serving
endpoints whose permissions the manifests set, unless a manifest entry names it explicitly
(then the plan says so loudly).

The sandbox runs with its caller not a workspace admin (``RECONCILER_SANDBOX_NOT_ADMIN``):
writes to an endpoint need CAN_MANAGE in its ACL, as for a CI service principal on Databricks,
so an ACL without the deployer really locks the next apply out.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from apply.e2e_helpers import edit, fast_sandbox, live_client, plan_exit, run, seed

from reconciler.sandbox.config import SANDBOX_USER

GROUP_ONLY = """    permissions:
      - {group: support-agents, level: CAN_QUERY}
"""
DEPLOYER_LOWERED = f"""    permissions:
      - {{group: support-agents, level: CAN_MANAGE}}
      - {{user: {SANDBOX_USER}, level: CAN_QUERY}}
"""


@pytest.fixture
def project(example_project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example's models and endpoint (quotas and Vector Search need admin rights here)."""
    fast_sandbox(monkeypatch, not_admin="1")
    for name in ("quotas.yaml", "vector_search.yaml"):
        (example_project / "manifests" / name).unlink()
    seed(example_project)
    return example_project


def with_permissions(project: Path, block: str) -> None:
    edit(
        project / "manifests" / "serving.yaml",
        "    tags:\n      team: ${var.team}\n",
        block + "    tags:\n      team: ${var.team}\n",
    )


def acl(project: Path) -> dict[str, str]:
    with live_client(project) as client:
        endpoint = client.serving_endpoints.get("support-intent")
        assert endpoint.id is not None
        found = client.serving_endpoints.get_permissions(endpoint.id)
    out = {}
    for entry in found.access_control_list or []:
        who = entry.user_name or entry.group_name or entry.service_principal_name
        for level in entry.all_permissions or []:
            if not level.inherited and who and level.permission_level:
                out[who] = level.permission_level.value
    return out


def test_the_deployer_keeps_can_manage_when_the_manifests_leave_it_out(project: Path) -> None:
    with_permissions(project, GROUP_ONLY)
    planned = run(project, "plan")
    assert planned.exit_code == 0, planned.output
    assert f'"user": "{SANDBOX_USER}", "level": "CAN_MANAGE"' in planned.output
    applied = run(project, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert acl(project) == {"support-agents": "CAN_QUERY", SANDBOX_USER: "CAN_MANAGE"}
    assert plan_exit(project)[0] == 0
    # The next deploy is not locked out: it can still change the endpoint.
    edit(project / "manifests" / "serving.yaml", "cost_center: cc-4711", "cost_center: cc-9")
    again = run(project, "apply", "--auto-approve")
    assert again.exit_code == 0, again.output
    assert plan_exit(project)[0] == 0


def test_an_explicit_lower_entry_for_the_deployer_is_honoured_and_said_loudly(
    project: Path,
) -> None:
    assert run(project, "apply", "--auto-approve").exit_code == 0
    with_permissions(project, DEPLOYER_LOWERED)
    planned = run(project, "plan")
    assert "CAUTION: the permissions lower the deploying identity" in planned.output
    assert f"user {SANDBOX_USER}) to CAN_QUERY" in planned.output
    applied = run(project, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert acl(project)[SANDBOX_USER] == "CAN_QUERY"
    # What the caution warned about: the deployer is locked out of its own endpoint now.
    edit(project / "manifests" / "serving.yaml", "cost_center: cc-4711", "cost_center: cc-9")
    locked = run(project, "apply", "--auto-approve")
    assert locked.exit_code == 1
    assert "PERMISSION_DENIED" in locked.output or "permission" in locked.output.lower()
