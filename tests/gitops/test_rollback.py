"""Rollback: `plan/apply/drift --ref REV` read the manifests of an older commit from git
objects, against a sandbox, without touching the working tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fixtures.project import copy_example_project

from gitops.gitrepo import commit_all, git, init
from reconciler.cli import cli

FAST = {
    f"RECONCILER_SANDBOX_DELAY_{d}": "0.01"
    for d in ("CONFIG_UPDATE", "ENDPOINT_READY", "VS_ENDPOINT", "INDEX_READY", "INDEX_DELETION")
}
MODELS = "manifests/models.yaml"
ALIAS = "model_alias.main.support.intent_classifier@champion"


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--project", str(root), *args], env=FAST)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The example project in git: commit 1 has champion 2; commit 2 moves it to 3; applied."""
    root = init(tmp_path / "repo")
    copy_example_project(root)
    (root / ".gitignore").write_text(".reconciler/\n")
    commit_all(root, "champion 2")
    models = root / MODELS
    models.write_text(models.read_text().replace("champion: {version: 2", "champion: {version: 3"))
    commit_all(root, "champion 3")
    seeded = run(root, "sandbox", "seed")
    assert seeded.exit_code == 0, seeded.output
    applied = run(root, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    return root


def test_plan_ref_shows_the_rollback(repo: Path) -> None:
    now = run(repo, "plan", "--detailed-exitcode")
    assert now.exit_code == 0, now.output
    back = run(repo, "plan", "--ref", "HEAD~1", "--format", "json", "--detailed-exitcode")
    assert back.exit_code == 2, back.output
    plan = json.loads(back.output)
    change = next(c for c in plan["changes"] if c["address"] == ALIAS)
    assert change["diffs"] == [{"path": "version", "before": 3, "after": 2}]


def test_apply_ref_rolls_back_without_touching_the_tree(repo: Path) -> None:
    before = (repo / MODELS).read_text()
    status = git(repo, "status", "--porcelain")
    rolled = run(repo, "apply", "--ref", "HEAD~1", "--auto-approve")
    assert rolled.exit_code == 0, rolled.output
    assert (repo / MODELS).read_text() == before
    assert git(repo, "status", "--porcelain") == status
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"

    assert run(repo, "drift", "--ref", "HEAD~1").exit_code == 0
    drifted = run(repo, "drift", "--format", "json")
    assert drifted.exit_code == 2, drifted.output
    fields = {
        (a["address"], f["path"]): (f["live"], f["manifest"])
        for a in json.loads(drifted.output)["drifted"]
        for f in a["fields"]
    }
    assert fields[(ALIAS, "version")] == (2, 3)


def test_git_revert_then_apply(repo: Path) -> None:
    git(repo, "revert", "--no-edit", "HEAD")
    assert run(repo, "apply", "--auto-approve").exit_code == 0
    assert run(repo, "drift").exit_code == 0
    assert run(repo, "drift", "--ref", "HEAD~1").exit_code == 2


def test_unknown_ref_is_a_clear_error(repo: Path) -> None:
    for command in (["plan"], ["apply", "--auto-approve"], ["drift"]):
        result = run(repo, *command, "--ref", "no-such-rev")
        assert result.exit_code == 1, result.output
        assert "unknown git revision 'no-such-rev'" in result.output
        assert "Traceback" not in result.output


def test_plan_file_and_ref_together_are_refused(repo: Path, tmp_path: Path) -> None:
    result = run(repo, "apply", str(tmp_path / "plan.json"), "--ref", "HEAD~1")
    assert result.exit_code == 1
    assert "either a PLAN file or --ref" in result.output
