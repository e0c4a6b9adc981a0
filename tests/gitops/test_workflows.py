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

# Findings zizmor's auditor persona reports that we accept, and why (see docs/gitops.md). Every
# secret now lives in an environment (reconciler-plan, or the target's), so
# "secrets-outside-env" is no longer accepted.
ACCEPTED_AUDITOR_FINDINGS = {
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
        assert writes <= {"pull-requests", "issues", "id-token"}, f"{name} writes {writes}"


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


# -- credentials ------------------------------------------------------------------------------

WORKSPACE_COMMANDS = re.compile(r"\breconciler (plan|apply|drift|import)\b")
"""The commands that open a workspace, hence authenticate to Databricks."""
PLAN_ENVIRONMENT = "reconciler-plan"
READER = {"vars.DATABRICKS_PLAN_CLIENT_ID", "secrets.DATABRICKS_PLAN_TOKEN"}
WRITER = {"vars.DATABRICKS_APPLY_CLIENT_ID", "secrets.DATABRICKS_APPLY_TOKEN"}
COMMON_VARS = {
    "vars.RECONCILER_ALLOWED_HOSTS",
    "vars.DATABRICKS_HOST",
    "vars.DATABRICKS_AUTH_TYPE",
    "vars.DATABRICKS_TOKEN_AUDIENCE",
}


def jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(p.name, n, job) for p in FILES for n, job in load(p)["jobs"].items()]


def scripts(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in job.get("steps", []))


def references(value: Any) -> set[str]:
    """``vars.X`` and ``secrets.X`` named anywhere in a piece of workflow."""
    return set(re.findall(r"\b(?:vars|secrets)\.\w+", json.dumps(value)))


def runs_the_tool(job: dict[str, Any]) -> bool:
    return re.search(r"\breconciler\b", scripts(job)) is not None


def test_id_token_write_only_in_jobs_that_authenticate() -> None:
    authenticating = []
    for path, name, job in jobs():
        asks = job["permissions"].get("id-token") == "write"
        authenticates = WORKSPACE_COMMANDS.search(scripts(job)) is not None
        assert asks == authenticates, (
            f"{path}:{name}: id-token {asks}, authenticates {authenticates}"
        )
        if authenticates:
            authenticating.append(f"{path}:{name}")
            env = job["env"]
            assert (
                env["DATABRICKS_AUTH_TYPE"] == "${{ vars.DATABRICKS_AUTH_TYPE || 'github-oidc' }}"
            )
            assert env["DATABRICKS_CLIENT_ID"].startswith("${{ vars.DATABRICKS_")
            assert "DATABRICKS_TOKEN" not in env, "the fallback token only reaches its one step"
    assert authenticating == ["apply.yml:apply", "drift.yml:drift", "plan.yml:plan"]


def test_the_token_fallback_reaches_only_the_step_that_needs_it() -> None:
    for path, name, job in jobs():
        for step in job.get("steps", []):
            token = step.get("env", {}).get("DATABRICKS_TOKEN")
            if token is not None:
                assert WORKSPACE_COMMANDS.search(step["run"]), f"{path}:{name}: {step['name']}"
                assert token.startswith("${{ secrets.DATABRICKS_")


@pytest.mark.parametrize("workflow", ["plan.yml", "drift.yml"])
def test_plans_and_drift_hold_no_writer_credential(workflow: str) -> None:
    """Pull request plans and scheduled drift run as the reader, in the reader's environment;
    nothing in them names the writer's client id, token or environments."""
    doc = load(WORKFLOWS / workflow)
    named = references(doc)
    assert not named & WRITER, named & WRITER
    assert named <= READER | COMMON_VARS, named - READER - COMMON_VARS
    for name, job in doc["jobs"].items():
        if job["permissions"].get("id-token"):
            assert job["environment"] == PLAN_ENVIRONMENT, name
            assert job["env"]["DATABRICKS_CLIENT_ID"] == "${{ vars.DATABRICKS_PLAN_CLIENT_ID }}"
        else:
            assert "environment" not in job, name
            assert not references(job) & READER, f"{name} needs no credential"


def test_apply_uses_the_writer_only_inside_the_protected_environment_on_main() -> None:
    doc = load(WORKFLOWS / "apply.yml")
    assert doc[True]["push"] == {"branches": ["main"]}
    assert set(doc[True]) == {"push", "workflow_dispatch"}, "never on pull requests"
    named = references(doc)
    assert not named & READER
    assert named <= WRITER | COMMON_VARS, named - WRITER - COMMON_VARS
    for name, job in doc["jobs"].items():
        if references(job) & WRITER:
            assert name == "apply"
            assert job["environment"] == "${{ matrix.target }}"
            assert job["environment"] != PLAN_ENVIRONMENT
            assert job["if"].startswith("github.ref == 'refs/heads/main' && ")
            assert job["env"]["DATABRICKS_CLIENT_ID"] == "${{ vars.DATABRICKS_APPLY_CLIENT_ID }}"


def guard_of(job: dict[str, Any]) -> dict[str, Any]:
    steps = job["steps"]
    guard = next(s for s in steps if s.get("name") == "Require RECONCILER_ALLOWED_HOSTS")
    first_tool = next(i for i, s in enumerate(steps) if "reconciler" in str(s.get("run", "")))
    assert steps.index(guard) < first_tool, "the guard runs before the tool"
    return guard


@pytest.mark.parametrize(
    ("path", "name"), [(p, n) for p, n, j in jobs() if runs_the_tool(j)], ids=str
)
def test_every_job_running_the_tool_requires_the_allowlist(path: str, name: str) -> None:
    job = load(WORKFLOWS / path)["jobs"][name]
    assert job["env"]["RECONCILER_ALLOWED_HOSTS"] == "${{ vars.RECONCILER_ALLOWED_HOSTS }}"
    guard = guard_of(job)
    if "if" in guard:  # only forks (which get no variables and are not planned) skip it
        assert (path, name) == ("plan.yml", "targets")
        assert guard["if"] == "github.event.pull_request.head.repo.full_name == github.repository"

    def run_guard(value: str | None) -> subprocess.CompletedProcess[str]:
        env = {"PATH": "/usr/bin:/bin"}
        if value is not None:
            env["RECONCILER_ALLOWED_HOSTS"] = value
        return subprocess.run(
            ["bash", "-e", "-c", guard["run"]], env=env, capture_output=True, text=True
        )

    for missing in (None, "", "  "):
        refused = run_guard(missing)
        assert refused.returncode == 1
        assert "::error::Set the RECONCILER_ALLOWED_HOSTS repository variable" in refused.stdout
    assert run_guard("https://adb-1.2.azuredatabricks.net").returncode == 0


def test_pull_requests_run_the_tool_from_the_base_branch() -> None:
    """The code that plans (and detects changes to itself) comes from the base branch; only
    the manifests come from the pull request."""
    doc = load(WORKFLOWS / "plan.yml")
    for name, job in doc["jobs"].items():
        steps = job["steps"]
        checkouts = {
            s["with"]["path"]: s["with"] for s in steps if "actions/checkout" in s.get("uses", "")
        }
        assert checkouts["base"]["ref"] == "${{ github.event.pull_request.base.sha }}", name
        assert "ref" not in checkouts["head"], name
        for step in steps:
            run = str(step.get("run", ""))
            if "pip install" in run:
                assert step["working-directory"] == "base", name
            elif "reconciler" in run:
                assert step["working-directory"] == "head", name
                assert "python -m reconciler" not in run, "would import the checkout's code"
    comment = next(s for s in doc["jobs"]["plan"]["steps"] if "gitops comment" in s.get("run", ""))
    assert comment["env"]["TOOL_CHANGES"] == "${{ needs.targets.outputs.changes }}"
    assert '--changes "$RUNNER_TEMP/changes.json"' in comment["run"]
    assert "reconciler gitops changes --base" in scripts(doc["jobs"]["targets"])
