"""``reconciler sandbox seed`` and ``register-version`` on an mlflow target, on both backends.

They play the training pipeline in that target's registry: the versions the manifests name
appear there (from a placeholder run), so plan and apply work right after a seed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fixtures.mlflow_registry import SERVER, SQLITE, Registry

from reconciler.adapters.mlflow.versions import PLACEHOLDER_NOTE, SEED_EXPERIMENT
from reconciler.cli import cli


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--project", str(root), *args])


def make_project(root: Path, registry: Registry, manifest: str) -> Path:
    (root / "manifests").mkdir(parents=True)
    (root / "manifests" / "models.yaml").write_text(manifest)
    (root / "reconciler.yaml").write_text(
        f"project: {registry.project}\n"
        "default_target: local\n"
        "targets:\n"
        f'  local: {{type: mlflow, tracking_uri: "{registry.target_uri}"}}\n'
        '  uc: {type: mlflow, tracking_uri: "databricks-uc"}\n'
        "  sandbox: {type: sandbox}\n"
    )
    return root


@pytest.fixture
def names(registry: Registry) -> tuple[str, str]:
    return registry.name("support.intent_classifier"), registry.name("support.ranker")


@pytest.fixture
def project(tmp_path: Path, registry: Registry, names: tuple[str, str]) -> Path:
    classifier, ranker = names
    manifest = (
        "registered_models:\n"
        f"  - name: {classifier}\n"
        "    aliases: {champion: {version: 2, approval: CHG-1}, challenger: 3}\n"
        f"  - name: {ranker}\n"
        "    aliases: {champion: 1}\n"
    )
    return make_project(tmp_path / "project", registry, manifest)


def test_seed_registers_the_versions_the_manifests_name_then_apply_works(
    project: Path, registry: Registry, names: tuple[str, str]
) -> None:
    classifier, ranker = names
    before = run(project, "plan")
    assert before.exit_code == 1 and "does not exist" in before.output  # nothing seeded yet

    seeded = run(project, "sandbox", "seed", "-t", "local")
    assert seeded.exit_code == 0, seeded.output
    assert "(target 'local')" in seeded.output
    assert f"{classifier}: versions 1..3 READY (registered 1, 2, 3)" in seeded.output
    assert f"{ranker}: versions 1..1 READY (registered 1)" in seeded.output
    assert "View run" not in seeded.output  # MLflow's run links stay out of the report

    client = registry.client
    versions = client.search_model_versions(f"name = '{classifier}'")
    assert sorted(int(v.version) for v in versions) == [1, 2, 3]
    assert {v.status for v in versions} == {"READY"}
    assert {v.description for v in versions} == {PLACEHOLDER_NOTE}
    run_ids = {v.run_id for v in versions}
    assert len(run_ids) == 1 and {v.source for v in versions} == {f"runs:/{run_ids.pop()}/model"}
    experiment = client.get_experiment_by_name(SEED_EXPERIMENT)
    assert experiment is not None
    placeholder = client.get_run(versions[0].run_id)
    assert placeholder.info.experiment_id == experiment.experiment_id
    assert placeholder.info.status == "FINISHED"
    # As a pipeline leaves it: the model is not marked as owned by the project.
    assert "reconciler.project" not in client.get_registered_model(classifier).tags

    again = run(project, "sandbox", "seed")  # the default target: same registry
    assert again.exit_code == 0, again.output
    assert f"{classifier}: versions 1..3 READY (already there)" in again.output
    assert len(client.search_model_versions(f"name = '{classifier}'")) == 3

    applied = run(project, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert registry.aliases(classifier) == {"champion": 2, "challenger": 3}
    assert run(project, "plan", "--detailed-exitcode").exit_code == 0


def test_seed_adds_only_the_versions_missing_above_the_pipelines(
    project: Path, registry: Registry, names: tuple[str, str]
) -> None:
    classifier, _ = names
    registry.register(classifier, 2)  # the real pipeline got as far as v2
    seeded = run(project, "sandbox", "seed")
    assert seeded.exit_code == 0, seeded.output
    assert f"{classifier}: versions 1..3 READY (registered 3)" in seeded.output
    versions = {
        int(v.version) for v in registry.client.search_model_versions(f"name = '{classifier}'")
    }
    assert versions == {1, 2, 3}


def test_register_version_on_an_mlflow_target(
    project: Path, registry: Registry, names: tuple[str, str]
) -> None:
    classifier, _ = names
    first = run(project, "sandbox", "register-version", classifier, "--comment", "nightly")
    assert first.exit_code == 0, first.output
    assert f"registered {classifier} version 1 (READY)" in first.output
    second = run(project, "sandbox", "register-version", classifier, "-t", "local")
    assert second.exit_code == 0 and "version 2 (READY)" in second.output
    assert registry.client.get_model_version(classifier, "1").description == "nightly"

    refused = run(
        project, "sandbox", "register-version", classifier, "--status", "FAILED_REGISTRATION"
    )
    assert refused.exit_code == 1
    assert "marks new versions READY itself" in refused.output
    assert len(registry.client.search_model_versions(f"name = '{classifier}'")) == 2


@pytest.mark.parametrize("registry", [SERVER], indirect=True)
def test_register_version_passes_on_the_servers_refusal_of_a_source(
    project: Path, registry: Registry, names: tuple[str, str]
) -> None:
    classifier, _ = names
    refused = run(
        project, "sandbox", "register-version", classifier, "--source", "file:///tmp/model"
    )
    assert refused.exit_code == 1, refused.output
    assert "Invalid model version source" in refused.output  # the server's own words
    assert "refused to register a version" in refused.output
    assert not registry.client.search_model_versions(f"name = '{classifier}'")


@pytest.mark.parametrize("registry", [SQLITE], indirect=True)  # no registry is contacted
def test_seed_refuses_unity_catalog_and_the_sandbox_state_option(
    project: Path, registry: Registry, tmp_path: Path
) -> None:
    uc = run(project, "sandbox", "seed", "-t", "uc")
    assert uc.exit_code == 1
    assert "cannot register placeholder model versions in databricks-uc" in uc.output
    assert "(target 'uc')" in uc.output and "training pipeline" in uc.output
    assert "Traceback" not in uc.output

    state = run(project, "sandbox", "seed", "--state", str(tmp_path / "state"))
    assert state.exit_code == 1
    assert "--state is for the sandbox" in state.output
    assert not (tmp_path / "state").exists()


def test_the_example_projects_mlflow_target_plans_and_applies_after_a_seed(
    example_project: Path,
) -> None:
    """The example's ``oss`` target: before, ``seed -t oss`` filled the sandbox instead."""
    seeded = run(example_project, "sandbox", "seed", "-t", "oss")
    assert seeded.exit_code == 0, seeded.output
    assert ".reconciler/mlflow.db (target 'oss')" in seeded.output
    assert "registered 1, 2, 3" in seeded.output
    assert not (example_project / ".reconciler" / "sandbox").exists()

    applied = run(example_project, "apply", "-t", "oss", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert run(example_project, "plan", "-t", "oss", "--detailed-exitcode").exit_code == 0
