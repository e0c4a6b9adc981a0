"""End to end on an mlflow target: the CLI against a real MLflow registry, on both backends.

Each test runs against an embedded sqlite registry and against the session's ``mlflow server``
over http (``registry`` in conftest.py). Versions come from MlflowClient (as a training pipeline
registers them); the manifests live in a git repository so that rollback is a real
``git revert``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fixtures.mlflow_registry import SQLITE, Registry

from reconciler.cli import cli
from reconciler.model.live import OWNER_TAG

PROJECT_FILE = """\
project: %(project)s
default_target: local
targets:
  local: {type: mlflow, tracking_uri: "%(uri)s"}
"""
MANIFEST = """\
registered_models:
  - name: %(model)s
    comment: Routes support tickets
    tags: {team: support}
    aliases:
      champion: {version: %(champion)s, approval: %(approval)s}
      challenger: 3
"""


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--project", str(root), *args], catch_exceptions=False)


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


@pytest.fixture
def model(registry: Registry) -> str:
    return registry.name("support.intent_classifier")


def write_manifest(root: Path, model: str, champion: int, approval: str) -> None:
    path = root / "manifests" / "models.yaml"
    path.write_text(MANIFEST % {"model": model, "champion": champion, "approval": approval})


@pytest.fixture
def project(tmp_path: Path, registry: Registry, model: str) -> Path:
    root = tmp_path / "project"
    (root / "manifests").mkdir(parents=True)
    config = PROJECT_FILE % {"project": registry.project, "uri": registry.target_uri}
    (root / "reconciler.yaml").write_text(config)
    (root / ".gitignore").write_text(".reconciler/\n")
    write_manifest(root, model, 2, "CHG-2187")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "models")
    return root


@pytest.fixture
def trained(registry: Registry, model: str) -> Registry:
    """A training pipeline registered v1..v3 of the model."""
    assert registry.register(model, 3) == [1, 2, 3]
    return registry


def test_apply_plan_drift_and_rollback(project: Path, trained: Registry, model: str) -> None:
    client = trained.client
    applied = run(project, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert trained.aliases(model) == {"champion": 2, "challenger": 3}
    assert client.get_registered_model(model).description == "Routes support tickets"
    tags = client.get_model_version(model, "2").tags
    assert tags["reconciler.approval.champion"] == "CHG-2187"
    head = git(project, "rev-parse", "HEAD")
    assert tags["reconciler.promoted.champion"].endswith(f"approval CHG-2187 commit {head}")

    planned = run(project, "plan", "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output

    # Someone moves the alias behind the tool's back: that is drift, and apply undoes it.
    client.set_registered_model_alias(model, "champion", "1")
    drifted = run(project, "drift")
    assert drifted.exit_code == 2, drifted.output
    assert f"model_alias.{model}@champion" in drifted.output
    assert run(project, "plan", "--detailed-exitcode").exit_code == 2
    assert run(project, "apply", "--auto-approve").exit_code == 0
    assert trained.aliases(model)["champion"] == 2

    # A promotion through git, then its rollback by `git revert`.
    write_manifest(project, model, 3, "CHG-2200")
    git(project, "commit", "-q", "-am", "promote v3")
    assert run(project, "apply", "--auto-approve").exit_code == 0
    assert trained.aliases(model)["champion"] == 3
    assert client.get_model_version(model, "3").tags["reconciler.approval.champion"] == "CHG-2200"

    git(project, "revert", "--no-edit", "HEAD")
    reverted = run(project, "apply", "--auto-approve")
    assert reverted.exit_code == 0, reverted.output
    assert trained.aliases(model)["champion"] == 2
    # The audit trail stays: v3 keeps the record of its promotion after the rollback.
    assert client.get_model_version(model, "3").tags["reconciler.approval.champion"] == "CHG-2200"
    assert run(project, "drift").exit_code == 0

    # A new approval for the same version is a change of its own: the record is rewritten.
    write_manifest(project, model, 2, "CHG-2300")
    approved = run(project, "plan", "--detailed-exitcode")
    assert approved.exit_code == 2 and "CHG-2300" in approved.output
    assert run(project, "apply", "--auto-approve").exit_code == 0
    assert client.get_model_version(model, "2").tags["reconciler.approval.champion"] == "CHG-2300"
    assert run(project, "plan", "--detailed-exitcode").exit_code == 0


def test_rollback_by_apply_ref_to_an_earlier_commit(
    project: Path, trained: Registry, model: str
) -> None:
    assert run(project, "apply", "--auto-approve").exit_code == 0
    first = git(project, "rev-parse", "HEAD")
    write_manifest(project, model, 3, "CHG-2200")
    git(project, "commit", "-q", "-am", "promote v3")
    assert run(project, "apply", "--auto-approve").exit_code == 0
    assert trained.aliases(model)["champion"] == 3

    rolled = run(project, "apply", "--ref", first, "--auto-approve")
    assert rolled.exit_code == 0, rolled.output
    assert trained.aliases(model) == {"champion": 2, "challenger": 3}
    record = trained.client.get_model_version(model, "2").tags["reconciler.promoted.champion"]
    assert record.endswith(f"approval CHG-2187 commit {first}")


def test_alias_to_a_missing_version_fails_before_any_write(
    project: Path, trained: Registry, model: str
) -> None:
    write_manifest(project, model, 7, "CHG-1")
    result = run(project, "plan")
    assert result.exit_code == 1
    assert "manifests/models.yaml:6:" in result.output  # points at the alias entry
    assert "version 7" in result.output and "does not exist" in result.output
    assert trained.aliases(model) == {}


@pytest.mark.parametrize("registry", [SQLITE], indirect=True)  # offline: no registry call
def test_an_mlflow_target_holds_registry_kinds_only(project: Path, model: str) -> None:
    (project / "manifests" / "serving.yaml").write_text(
        "serving_endpoints:\n"
        "  - name: support-intent\n"
        "    served_entities:\n"
        f"      - {{name: champion, entity: {model}@champion, workload_size: Small}}\n"
    )
    result = run(project, "validate")
    assert result.exit_code == 1
    assert "'local'" in result.output
    assert "serving_endpoints" in result.output
    assert "Traceback" not in result.output


def test_prune_deletes_only_our_models_and_only_with_allow_delete(
    project: Path, trained: Registry, model: str
) -> None:
    client, scratch_model = trained.client, trained.name("scratch")
    config = project / "reconciler.yaml"
    config.write_text(config.read_text().replace('"}', '", prune: true}'))
    scratch = project / "manifests" / "scratch.yaml"
    scratch.write_text(f"registered_models:\n  - {{name: {scratch_model}, comment: temporary}}\n")
    assert run(project, "apply", "--auto-approve").exit_code == 0
    tags = client.get_registered_model(scratch_model).tags
    assert tags["reconciler.project"] == trained.project

    scratch.unlink()
    planned = run(project, "plan", "--detailed-exitcode")
    assert planned.exit_code == 2
    assert f"registered_model.{scratch_model}" in planned.output
    assert f"registered_model.{model}" not in planned.output  # made by training: never pruned

    refused = run(project, "apply", "--auto-approve")
    assert refused.exit_code == 1
    assert "--allow-delete" in refused.output
    assert trained.exists(scratch_model)

    assert run(project, "apply", "--auto-approve", "--allow-delete").exit_code == 0
    assert not trained.exists(scratch_model)
    assert trained.aliases(model) == {"champion": 2, "challenger": 3}


def test_a_saved_plan_applies_once_and_is_refused_when_the_registry_moved(
    project: Path, trained: Registry, model: str
) -> None:
    saved = project / "plan.json"
    assert run(project, "plan", "-o", str(saved)).exit_code == 0
    trained.client.set_registered_model_alias(model, "challenger", "1")  # someone acts
    stale = run(project, "apply", str(saved))
    assert stale.exit_code == 1
    assert "is stale" in stale.output and "nothing was applied" in stale.output
    assert trained.aliases(model) == {"challenger": 1}

    assert run(project, "plan", "-o", str(saved)).exit_code == 0
    fresh = run(project, "apply", str(saved))
    assert fresh.exit_code == 0, fresh.output
    assert trained.aliases(model) == {"champion": 2, "challenger": 3}


def test_import_writes_manifests_that_plan_clean(
    project: Path, trained: Registry, model: str
) -> None:
    client = trained.client
    client.update_registered_model(model, description="Routes support tickets")
    client.set_registered_model_tag(model, "team", "support")
    client.set_registered_model_alias(model, "champion", "2")
    (project / "manifests" / "models.yaml").unlink()
    (project / "manifests" / "keep.yaml").write_text("registered_models: []\n")

    # --name keeps to this test's models: the server is shared with other tests.
    imported = run(project, "import", "--name", f"{trained.tag}.*", "--out", "manifests/imported")
    assert imported.exit_code == 0, imported.output
    written = (project / "manifests" / "imported" / "registered_models.yaml").read_text()
    assert model in written and "champion: 2" in written

    # Imported, nobody owns them yet: the plan adopts them without changing a field.
    planned = run(project, "plan", "--format", "json")
    assert planned.exit_code == 0, planned.output
    changes = json.loads(planned.stdout)["changes"]
    actions = {c["address"]: c["action"] for c in changes}
    assert actions[f"registered_model.{model}"] == "adopt"
    assert actions[f"model_alias.{model}@champion"] == "adopt"
    assert set(actions.values()) == {"adopt"}
    assert all(c["diffs"] == [] for c in changes)
    assert run(project, "apply", "--auto-approve").exit_code == 0
    assert client.get_registered_model(model).tags[OWNER_TAG] == trained.project
    assert run(project, "plan", "--detailed-exitcode").exit_code == 0
