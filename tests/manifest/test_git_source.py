"""``GitSource``: manifests as they were at a revision, without touching the working tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitops.gitrepo import commit_all, git, init

from reconciler.manifest import load_desired_state, load_project
from reconciler.manifest.git_source import GitSource
from reconciler.model.errors import ManifestError

PROJECT = """\
project: demo
include: ["manifests/**/*.yaml"]
default_target: dev
targets:
  dev: {type: sandbox}
"""


def models(champion: int) -> str:
    return f"""\
registered_models:
  - name: main.demo.clf
    comment: classifier
    aliases: {{champion: {champion}}}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose project lives in ``proj/``: champion 1, then 2; working tree 3."""
    repo = init(tmp_path / "repo")
    proj = repo / "proj"
    (proj / "manifests" / "nested").mkdir(parents=True)
    (proj / "reconciler.yaml").write_text(PROJECT)
    (proj / "manifests" / "models.yaml").write_text(models(1))
    (proj / "manifests" / "nested" / "extra.yaml").write_text(
        "vector_search_endpoints:\n  - {name: vs-one, type: STANDARD}\n"
    )
    (repo / "README.md").write_text("not a manifest\n")
    commit_all(repo, "v1")
    git(repo, "tag", "v1")
    (proj / "manifests" / "models.yaml").write_text(models(2))
    (proj / "manifests" / "nested" / "extra.yaml").unlink()
    commit_all(repo, "v2")
    (proj / "manifests" / "models.yaml").write_text(models(3))  # uncommitted
    return repo


def champion(project_dir: Path, source: GitSource | None) -> int:
    project = load_project(project_dir)
    desired = load_desired_state(project, None, source=source)
    alias = desired.resources["model_alias.main.demo.clf@champion"]
    return int(alias.spec.doc()["version"])


def test_reads_each_revision_not_the_working_tree(repo: Path) -> None:
    proj = repo / "proj"
    status_before = git(repo, "status", "--porcelain")
    mtime = (proj / "manifests" / "models.yaml").stat().st_mtime_ns
    assert champion(proj, None) == 3
    assert champion(proj, GitSource(proj, "HEAD")) == 2
    assert champion(proj, GitSource(proj, "HEAD~1")) == 1
    assert champion(proj, GitSource(proj, "v1")) == 1
    assert git(repo, "status", "--porcelain") == status_before
    assert (proj / "manifests" / "models.yaml").stat().st_mtime_ns == mtime


def test_lists_files_relative_to_the_project(repo: Path) -> None:
    proj = repo / "proj"
    old = GitSource(proj, "v1")
    assert old.files(["manifests/**/*.yaml"]) == [
        "manifests/models.yaml",
        "manifests/nested/extra.yaml",
    ]
    assert GitSource(proj, "HEAD").files(["manifests/**/*.yaml"]) == ["manifests/models.yaml"]
    assert old.read("manifests/nested/extra.yaml").startswith(b"vector_search_endpoints")
    assert old.describe("manifests/models.yaml") == "proj/manifests/models.yaml@v1"
    assert GitSource(repo, "v1").files(["*.md"]) == ["README.md"]


def test_errors_name_the_revision(repo: Path) -> None:
    proj = repo / "proj"
    with pytest.raises(ManifestError, match="unknown git revision 'nope'") as caught:
        GitSource(proj, "nope")
    assert caught.value.hint and "fetch-depth" in caught.value.hint
    with pytest.raises(ManifestError, match="invalid revision"):
        GitSource(proj, "--output=/tmp/x")
    with pytest.raises(FileNotFoundError):
        GitSource(proj, "HEAD").read("manifests/nested/extra.yaml")


def test_a_manifest_error_at_a_revision_points_there(repo: Path) -> None:
    proj = repo / "proj"
    (proj / "manifests" / "models.yaml").write_text(models(2).replace("comment", "coment"))
    commit_all(repo, "typo")
    with pytest.raises(ManifestError) as caught:
        champion(proj, GitSource(proj, "HEAD"))
    assert caught.value.location is not None
    assert caught.value.location.file == "proj/manifests/models.yaml@HEAD"
    assert champion(proj, GitSource(proj, "HEAD~1")) == 2


def test_outside_a_repository(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="not inside a git repository"):
        GitSource(tmp_path, "HEAD")
