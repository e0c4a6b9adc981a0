"""The shipped workflows pass actionlint and zizmor (offline), and keep our own rules:
least-privilege permissions, pinned actions, no expression expanded inside a shell script."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
BIN = Path(sys.executable).parent

# Findings zizmor's auditor persona reports that we accept, and why (see docs/gitops.md):
ACCEPTED_AUDITOR_FINDINGS = {
    # plan and drift read the workspace with a repository secret (a read-only principal);
    # an environment there would stop every pull request and every scheduled run for review.
    "secrets-outside-env",
    # apply serialises per target (job-level concurrency); a workflow-level group would let a
    # later push cancel the pending apply of an earlier one that touched another target.
    "concurrency-limits",
}


def tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:  # pragma: no cover - both are test dependencies
        pytest.fail(f"{name} is not installed (pip install -e '.[test]')")
    return found


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def test_the_four_workflows_exist() -> None:
    assert [p.name for p in FILES] == ["apply.yml", "ci.yml", "drift.yml", "plan.yml"]


def test_actionlint_passes() -> None:
    result = subprocess.run(
        [tool("actionlint"), "-no-color", *map(str, FILES)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_passes_offline() -> None:
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", str(WORKFLOWS)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_auditor_findings_are_the_accepted_ones() -> None:
    result = subprocess.run(
        [
            tool("zizmor"),
            "--offline",
            "--no-progress",
            "--persona",
            "auditor",
            "--format",
            "json",
            str(WORKFLOWS),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    findings = {f["ident"] for f in json.loads(result.stdout)}
    assert findings <= ACCEPTED_AUDITOR_FINDINGS, findings - ACCEPTED_AUDITOR_FINDINGS


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_least_privilege(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] == {}, "the workflow grants nothing by default"
    for name, job in workflow["jobs"].items():
        perms = job.get("permissions")
        assert isinstance(perms, dict), f"{name} declares its permissions"
        assert set(perms.values()) <= {"read", "write"}
        writes = {k for k, v in perms.items() if v == "write"}
        assert writes <= {"pull-requests", "issues"}, f"{name} writes {writes}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_actions_pinned_and_no_expressions_in_shell(path: Path) -> None:
    for name, job in load(path)["jobs"].items():
        for step in job.get("steps", []):
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
                if step["uses"].startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False
            if "run" in step:
                assert "${{" not in step["run"], f"{path.name}:{name}: pass values through env"


def test_plan_comments_with_the_workflow_token() -> None:
    plan = load(FILES[3])
    assert list(plan[True]) == ["pull_request"], "never pull_request_target"
    steps = plan["jobs"]["plan"]["steps"]
    comment = next(s for s in steps if "gitops comment" in s.get("run", ""))
    assert comment["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
    assert (
        "--format markdown"
        in next(s for s in steps if "reconciler plan" in s.get("run", ""))["run"]
    )


def test_apply_gates_each_target() -> None:
    job = load(FILES[0])["jobs"]["apply"]
    assert job["environment"] == "${{ matrix.target }}"
    assert job["concurrency"] == {
        "group": "reconciler-apply-${{ matrix.target }}",
        "cancel-in-progress": False,
    }
    assert "--auto-approve" in job["steps"][-1]["run"]


def test_drift_runs_on_schedule_and_by_hand() -> None:
    drift = load(FILES[2])
    assert set(drift[True]) == {"schedule", "workflow_dispatch"}
    job = drift["jobs"]["drift"]
    assert job["permissions"]["issues"] == "write"
    assert any("gitops drift-issue" in s.get("run", "") for s in job["steps"])


def test_the_linters_do_catch_an_injection(tmp_path: Path) -> None:
    """Guards the two tests above: the same invocations fail on a known-bad workflow."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: pull_request_target\n"
        "jobs:\n"
        "  x:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    zizmor = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", str(bad.parent)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert zizmor.returncode != 0
    assert "template-injection" in zizmor.stdout
    lint = subprocess.run(
        [tool("actionlint"), "-no-color", str(bad)], capture_output=True, text=True, cwd=tmp_path
    )
    assert lint.returncode != 0
    assert "github.event.pull_request.title" in lint.stdout
