"""reconciler.yaml: found from any directory of the project, targets and variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.manifest import load_project
from reconciler.model.errors import ManifestError
from reconciler.project import TargetType, select_target

PROJECT = """\
project: demo
variables:
  catalog: {default: main}
  region: {}
targets:
  a: {type: sandbox}
  b: {type: databricks, profile: DEV, variables: {catalog: dev, region: eu}}
"""


def write(tmp_path: Path, text: str = PROJECT) -> Path:
    (tmp_path / "reconciler.yaml").write_text(text)
    return tmp_path


def test_found_in_parent(tmp_path: Path) -> None:
    root = write(tmp_path)
    (root / "x" / "y").mkdir(parents=True)
    project = load_project(cwd=root / "x" / "y")
    assert project.root == root.resolve()
    assert project.file == str(root / "reconciler.yaml")
    assert project.include == ["manifests/**/*.yaml"]


def test_explicit_directory(tmp_path: Path) -> None:
    project = load_project(write(tmp_path))
    assert project.targets["b"].type is TargetType.DATABRICKS


def test_missing_project_file(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"no reconciler\.yaml in"):
        load_project(tmp_path)
    with pytest.raises(ManifestError, match="or any parent directory"):
        load_project(cwd=tmp_path)


def test_variables_defaults_and_overrides(tmp_path: Path) -> None:
    project = load_project(write(tmp_path))
    assert project.variables_for("a") == {"catalog": "main"}
    assert project.variables_for("b") == {"catalog": "dev", "region": "eu"}


def test_select_target(tmp_path: Path) -> None:
    project = load_project(write(tmp_path))
    assert select_target(project, "b")[0] == "b"
    with pytest.raises(ManifestError, match="no default_target") as info:
        select_target(project, None)
    assert info.value.hint == "pass -t one of: a, b"
    with pytest.raises(ManifestError, match="unknown target 'c'; known targets: a, b"):
        select_target(project, "c")
    single = load_project(write(tmp_path, "project: p\ntargets: {only: {type: sandbox}}\n"))
    assert select_target(single, None)[0] == "only"


def test_location_of_project_values(tmp_path: Path) -> None:
    project = load_project(write(tmp_path), cwd=tmp_path)
    where = project.location("targets", "b", "profile")
    assert (where.file, where.line, where.column) == ("reconciler.yaml", 7, 34)


@pytest.mark.parametrize("setting", ["connect_timeout", "read_timeout"])
def test_network_timeouts_on_a_sandbox_target_are_an_error_at_the_key(
    tmp_path: Path, setting: str
) -> None:
    """The embedded sandbox answers on loopback: the setting would be ignored silently."""
    root = write(tmp_path, f"project: p\ntargets:\n  a: {{type: sandbox, {setting}: 5}}\n")
    with pytest.raises(ManifestError, match=f"{setting} applies to databricks and mlflow") as info:
        load_project(root, cwd=root)
    assert info.value.location.line == 3


def test_max_concurrency_on_an_mlflow_target_is_an_error_at_the_key(tmp_path: Path) -> None:
    """Only the Databricks client's reads adapt below the ceiling: on an mlflow target the
    setting would be ignored silently."""
    root = write(
        tmp_path,
        "project: p\ntargets:\n  m:\n    type: mlflow\n    tracking_uri: sqlite:///x.db\n"
        "    max_concurrency: 4\n",
    )
    with pytest.raises(
        ManifestError, match="max_concurrency applies to databricks and sandbox"
    ) as info:
        load_project(root, cwd=root)
    assert info.value.location.line == 6
