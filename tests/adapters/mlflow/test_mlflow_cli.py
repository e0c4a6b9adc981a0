"""End to end on an mlflow target: the CLI against a real sqlite MLflow registry.

Versions come from MlflowClient (as a training pipeline registers them); the manifests live in
a git repository so that rollback is a real ``git revert``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from mlflow import MlflowClient

from reconciler.cli import cli

MODEL = "support.intent_classifier"
PROJECT_FILE = """\
project: support-assistant
default_target: local
targets:
  local: {type: mlflow, tracking_uri: "sqlite:///registry/mlflow.db"}
"""
MANIFEST = """\
registered_models:
  - name: support.intent_classifier
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


def write_manifest(root: Path, champion: int, approval: str) -> None:
    path = root / "manifests" / "models.yaml"
    path.write_text(MANIFEST % {"champion": champion, "approval": approval})


@pytest.fixture
def project(tmp_path: Path, migrated_db: Path) -> Path:
    root = tmp_path / "project"
    (root / "manifests").mkdir(parents=True)
    (root / "registry").mkdir()
    shutil.copyfile(migrated_db, root / "registry" / "mlflow.db")
    (root / "reconciler.yaml").write_text(PROJECT_FILE)
    (root / ".gitignore").write_text("registry/\n.reconciler/\n")
    write_manifest(root, 2, "CHG-2187")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "models")
    return root


@pytest.fixture
def client(project: Path) -> MlflowClient:
    """The registry as others see it: a training pipeline registering v1..v3 of the model."""
    uri = f"sqlite:///{project / 'registry' / 'mlflow.db'}"
    found = MlflowClient(tracking_uri=uri, registry_uri=uri)
    found.create_registered_model(MODEL)
    for i in range(3):
        found.create_model_version(MODEL, source=f"file:///models/{i}")
    return found


def test_apply_plan_drift_and_rollback(project: Path, client: MlflowClient) -> None:
    applied = run(project, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert client.get_registered_model(MODEL).aliases == {"champion": 2, "challenger": 3}
    assert client.get_registered_model(MODEL).description == "Routes support tickets"
    tags = client.get_model_version(MODEL, "2").tags
    assert tags["reconciler.approval.champion"] == "CHG-2187"
    head = git(project, "rev-parse", "HEAD")
    assert tags["reconciler.promoted.champion"].endswith(f"approval CHG-2187 commit {head}")

    planned = run(project, "plan", "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output

    # Someone moves the alias behind the tool's back: that is drift, and apply undoes it.
    client.set_registered_model_alias(MODEL, "champion", "1")
    drifted = run(project, "drift")
    assert drifted.exit_code == 2, drifted.output
    assert f"model_alias.{MODEL}@champion" in drifted.output
    assert run(project, "plan", "--detailed-exitcode").exit_code == 2
    assert run(project, "apply", "--auto-approve").exit_code == 0
    assert client.get_registered_model(MODEL).aliases["champion"] == 2

    # A promotion through git, then its rollback by `git revert`.
    write_manifest(project, 3, "CHG-2200")
    git(project, "commit", "-q", "-am", "promote v3")
    assert run(project, "apply", "--auto-approve").exit_code == 0
    assert client.get_registered_model(MODEL).aliases["champion"] == 3
    assert client.get_model_version(MODEL, "3").tags["reconciler.approval.champion"] == "CHG-2200"

    git(project, "revert", "--no-edit", "HEAD")
    reverted = run(project, "apply", "--auto-approve")
    assert reverted.exit_code == 0, reverted.output
    assert client.get_registered_model(MODEL).aliases["champion"] == 2
    # The audit trail stays: v3 keeps the record of its promotion after the rollback.
    assert client.get_model_version(MODEL, "3").tags["reconciler.approval.champion"] == "CHG-2200"
    assert run(project, "drift").exit_code == 0

    # A new approval for the same version is a change of its own: the record is rewritten.
    write_manifest(project, 2, "CHG-2300")
    approved = run(project, "plan", "--detailed-exitcode")
    assert approved.exit_code == 2 and "CHG-2300" in approved.output
    assert run(project, "apply", "--auto-approve").exit_code == 0
    assert client.get_model_version(MODEL, "2").tags["reconciler.approval.champion"] == "CHG-2300"
    assert run(project, "plan", "--detailed-exitcode").exit_code == 0


def test_alias_to_a_missing_version_fails_before_any_write(
    project: Path, client: MlflowClient
) -> None:
    write_manifest(project, 7, "CHG-1")
    result = run(project, "plan")
    assert result.exit_code == 1
    assert "manifests/models.yaml:6:" in result.output  # points at the alias entry
    assert "version 7" in result.output and "does not exist" in result.output
    assert client.get_registered_model(MODEL).aliases == {}


def test_an_mlflow_target_holds_registry_kinds_only(project: Path) -> None:
    (project / "manifests" / "serving.yaml").write_text(
        "serving_endpoints:\n"
        "  - name: support-intent\n"
        "    served_entities:\n"
        "      - {name: champion, entity: support.intent_classifier@champion,"
        " workload_size: Small}\n"
    )
    result = run(project, "validate")
    assert result.exit_code == 1
    assert "'local'" in result.output
    assert "serving_endpoints" in result.output
    assert "Traceback" not in result.output


def test_prune_deletes_only_our_models_and_only_with_allow_delete(
    project: Path, client: MlflowClient
) -> None:
    config = project / "reconciler.yaml"
    config.write_text(config.read_text().replace('mlflow.db"}', 'mlflow.db", prune: true}'))
    scratch = project / "manifests" / "scratch.yaml"
    scratch.write_text("registered_models:\n  - {name: support.scratch, comment: temporary}\n")
    assert run(project, "apply", "--auto-approve").exit_code == 0
    assert client.get_registered_model("support.scratch").tags["reconciler.project"] == (
        "support-assistant"
    )

    scratch.unlink()
    planned = run(project, "plan", "--detailed-exitcode")
    assert planned.exit_code == 2
    assert "registered_model.support.scratch" in planned.output
    assert MODEL not in planned.output  # created by training, not by us: never pruned

    refused = run(project, "apply", "--auto-approve")
    assert refused.exit_code == 1
    assert "--allow-delete" in refused.output
    assert client.search_registered_models(filter_string="name = 'support.scratch'")

    assert run(project, "apply", "--auto-approve", "--allow-delete").exit_code == 0
    assert not client.search_registered_models(filter_string="name = 'support.scratch'")
    assert client.get_registered_model(MODEL).aliases == {"champion": 2, "challenger": 3}


def test_a_saved_plan_applies_once_and_is_refused_when_the_registry_moved(
    project: Path, client: MlflowClient
) -> None:
    saved = project / "plan.json"
    assert run(project, "plan", "-o", str(saved)).exit_code == 0
    client.set_registered_model_alias(MODEL, "challenger", "1")  # someone acts in between
    stale = run(project, "apply", str(saved))
    assert stale.exit_code == 1
    assert "is stale" in stale.output and "nothing was applied" in stale.output
    assert client.get_registered_model(MODEL).aliases == {"challenger": 1}

    assert run(project, "plan", "-o", str(saved)).exit_code == 0
    fresh = run(project, "apply", str(saved))
    assert fresh.exit_code == 0, fresh.output
    assert client.get_registered_model(MODEL).aliases == {"champion": 2, "challenger": 3}


def test_import_writes_manifests_that_plan_clean(project: Path, client: MlflowClient) -> None:
    client.update_registered_model(MODEL, description="Routes support tickets")
    client.set_registered_model_tag(MODEL, "team", "support")
    client.set_registered_model_alias(MODEL, "champion", 2)
    (project / "manifests" / "models.yaml").unlink()
    (project / "manifests" / "keep.yaml").write_text("registered_models: []\n")

    imported = run(project, "import", "--out", "manifests/imported")
    assert imported.exit_code == 0, imported.output
    written = (project / "manifests" / "imported" / "registered_models.yaml").read_text()
    assert "support.intent_classifier" in written and "champion: 2" in written

    assert run(project, "plan", "--detailed-exitcode").exit_code == 0
