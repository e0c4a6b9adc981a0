"""`reconciler gitops comment|drift-issue` as the workflows call them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops.fake_github import TOKEN, FakeGitHub
from reconciler.cli import cli
from reconciler.gitops.github import DRIFT_LABEL, plan_marker


def run(github: FakeGitHub, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=github.env(), catch_exceptions=False)
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def test_comment_shows_plan_and_run_link(github: FakeGitHub, tmp_path: Path) -> None:
    pr = github.state.add_issue("pr", "", pr=True)["number"]
    plan = tmp_path / "plan.md"
    plan.write_text("| action | address |\n|---|---|\n| update | model_alias.m@champion |\n")
    code, out = run(
        github,
        "gitops",
        "comment",
        "-t",
        "prod",
        "--pr",
        str(pr),
        "--exit-code",
        "2",
        "--plan",
        str(plan),
    )
    assert code == 0, out
    assert "created" in out
    (comment,) = github.state.comments_on(pr)
    body = comment["body"]
    assert body.startswith(plan_marker("prod"))
    assert "Merging this pull request applies this plan to `prod`." in body
    assert "model_alias.m@champion" in body
    assert "https://github.test/acme/assets/actions/runs/42" in body
    assert "`0123456789ab`" in body
    assert TOKEN not in out


def test_comment_no_changes_then_failure_updates_same_comment(
    github: FakeGitHub, tmp_path: Path
) -> None:
    pr = github.state.add_issue("pr", "", pr=True)["number"]
    code, _ = run(github, "gitops", "comment", "-t", "dev", "--pr", str(pr), "--exit-code", "0")
    assert code == 0
    assert "No changes: `dev` already matches" in github.state.comments_on(pr)[0]["body"]

    log = tmp_path / "plan.err"
    log.write_text("error: manifests/models.yaml:3:5: unknown field 'coment'\n")
    code, _ = run(
        github,
        "gitops",
        "comment",
        "-t",
        "dev",
        "--pr",
        str(pr),
        "--exit-code",
        "1",
        "--log",
        str(log),
    )
    assert code == 1, "a failed plan fails the check after posting"
    (comment,) = github.state.comments_on(pr)
    assert "The plan failed" in comment["body"]
    assert "manifests/models.yaml:3:5" in comment["body"]


def test_pr_number_from_environment(github: FakeGitHub) -> None:
    pr = github.state.add_issue("pr", "", pr=True)["number"]
    env = {**github.env(), "PR_NUMBER": str(pr)}
    result = CliRunner().invoke(
        cli, ["gitops", "comment", "-t", "dev", "--exit-code", "0"], env=env
    )
    assert result.exit_code == 0, result.output
    assert len(github.state.comments_on(pr)) == 1


def test_drift_issue_lifecycle(github: FakeGitHub, tmp_path: Path) -> None:
    report = tmp_path / "drift.md"
    report.write_text("| asset | field | live | manifest |\n|---|---|---|---|\n| q | x | 1 | 2 |\n")
    code, out = run(
        github, "gitops", "drift-issue", "-t", "prod", "--exit-code", "2", "--report", str(report)
    )
    assert code == 0, out
    (issue,) = github.state.issues.values()
    assert issue["state"] == "open" and issue["labels"] == [{"name": DRIFT_LABEL}]
    assert "| q | x | 1 | 2 |" in issue["body"]
    assert "reconciler apply -t prod" in issue["body"]

    code, _ = run(github, "gitops", "drift-issue", "-t", "prod", "--exit-code", "1")
    assert code == 1
    assert issue["state"] == "open", "an error leaves the issue alone"

    code, out = run(github, "gitops", "drift-issue", "-t", "prod", "--exit-code", "0")
    assert code == 0 and "closed" in out
    assert issue["state"] == "closed"
    assert "back in sync" in github.state.comments_on(issue["number"])[0]["body"]


@pytest.mark.parametrize("command", ["comment", "drift-issue"])
def test_bad_exit_code_is_refused(github: FakeGitHub, command: str) -> None:
    extra = ["--pr", "1"] if command == "comment" else []
    code, out = run(github, "gitops", command, "-t", "prod", "--exit-code", "7", *extra)
    assert code == 1
    assert "unexpected exit code 7" in out
    assert github.state.log == [], "nothing was posted"


def test_api_error_is_one_clear_line(github: FakeGitHub) -> None:
    github.state.failures.append((403, {"message": "Resource not accessible by integration"}))
    code, out = run(github, "gitops", "drift-issue", "-t", "prod", "--exit-code", "0")
    assert code == 1
    assert "error: GET http" in out
    assert "/repos/acme/assets/issues failed: HTTP 403" in out
    assert "hint:" in out and "Traceback" not in out


def test_module_entry_point(github: FakeGitHub) -> None:
    pr = github.state.add_issue("pr", "", pr=True)["number"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "reconciler.gitops",
            "comment",
            "-t",
            "dev",
            "--pr",
            str(pr),
            "--exit-code",
            "0",
        ],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **github.env()},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert len(github.state.comments_on(pr)) == 1
    assert TOKEN not in result.stdout + result.stderr
