"""Which targets a pull request or a push touches (`reconciler gitops targets`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitops.gitrepo import commit_all, init
from reconciler.cli import cli
from reconciler.gitops.targets import affected_targets
from reconciler.manifest import load_project
from reconciler.project import TargetType

PROJECT = """\
project: demo
include: ["manifests/**/*.yaml"]
targets:
  local: {type: sandbox}
  dev: {type: databricks, host: https://dev.example.com}
  prod: {type: databricks, host: https://prod.example.com}
  oss: {type: mlflow, tracking_uri: "sqlite:///x.db", include: ["manifests/models.yaml"]}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = init(tmp_path / "repo")
    proj = repo / "infra"
    (proj / "manifests").mkdir(parents=True)
    (proj / "reconciler.yaml").write_text(PROJECT)
    (proj / "manifests" / "models.yaml").write_text("registered_models: []\n")
    (proj / "manifests" / "serving.yaml").write_text("serving_endpoints: []\n")
    (repo / "README.md").write_text("hello\n")
    commit_all(repo, "base")
    return repo


def targets(repo: Path, *args: str) -> list[str]:
    result = CliRunner().invoke(cli, ["--project", str(repo / "infra"), "gitops", "targets", *args])
    assert result.exit_code == 0, result.output
    names = json.loads(result.output)
    assert isinstance(names, list)
    return names


def test_all_but_sandbox_without_a_base(repo: Path) -> None:
    assert targets(repo) == ["dev", "oss", "prod"]
    assert targets(repo, "--type", "sandbox") == ["local"]
    assert targets(repo, "--type", "databricks") == ["dev", "prod"]


def test_docs_only_change_touches_nothing(repo: Path) -> None:
    (repo / "README.md").write_text("more\n")
    commit_all(repo, "docs")
    assert targets(repo, "--changed-from", "HEAD~1") == []


def test_manifest_change_touches_targets_that_include_it(repo: Path) -> None:
    (repo / "infra" / "manifests" / "serving.yaml").write_text("serving_endpoints: [] # x\n")
    commit_all(repo, "serving")
    assert targets(repo, "--changed-from", "HEAD~1") == ["dev", "prod"]
    (repo / "infra" / "manifests" / "models.yaml").write_text("registered_models: [] # x\n")
    commit_all(repo, "models")
    assert targets(repo, "--changed-from", "HEAD~1") == ["dev", "oss", "prod"]


def test_project_file_change_touches_every_target(repo: Path) -> None:
    (repo / "infra" / "reconciler.yaml").write_text(PROJECT + "# comment\n")
    commit_all(repo, "project")
    assert targets(repo, "--changed-from", "HEAD~1") == ["dev", "oss", "prod"]


def test_only_checks_the_names(repo: Path) -> None:
    assert targets(repo, "--only", "prod") == ["prod"]
    result = CliRunner().invoke(
        cli, ["--project", str(repo / "infra"), "gitops", "targets", "--only", "$(rm -rf /)"]
    )
    assert result.exit_code == 1
    assert "unknown target" in result.output


def test_unknown_base_is_a_clear_error(repo: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--project", str(repo / "infra"), "gitops", "targets", "--changed-from", "nope"]
    )
    assert result.exit_code == 1
    assert "cannot list the files changed since 'nope'" in result.output
    assert "fetch-depth" in result.output


def test_paths_outside_the_project_are_ignored(repo: Path) -> None:
    project = load_project(repo / "infra")
    changed = ["other/manifests/models.yaml", "infra/manifests/models.yaml"]
    assert affected_targets(project, changed[:1], repo_root=repo) == []
    assert affected_targets(project, changed, repo_root=repo, types=[TargetType.MLFLOW]) == ["oss"]
