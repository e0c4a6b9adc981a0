"""The example project at the repo root is valid for every target, and loads as documented."""

from __future__ import annotations

from pathlib import Path

from manifest.helpers import run_cli
from reconciler.kinds.registered_model import ModelAliasSpec
from reconciler.kinds.serving_endpoint import ServingEndpointSpec
from reconciler.manifest import load_desired_state, load_project
from reconciler.model.resources import KindName


def test_validate_example_project_exits_0(example_project: Path) -> None:
    out = run_cli(["validate"], cwd=example_project)
    assert out.exit_code == 0, out.stderr
    assert out.stdout.startswith("OK: support-assistant (target sandbox): 2 registered_model,")
    assert "3 model_alias" in out.stdout
    assert "3 serving_endpoint" in out.stdout
    assert "in 5 files" in out.stdout


def test_validate_every_target(example_project: Path) -> None:
    out = run_cli(["--project", str(example_project), "validate", "--all-targets"], cwd=Path("/"))
    assert out.exit_code == 0, out.stderr
    lines = out.stdout.splitlines()
    assert [line.split("(target ")[1].split(")")[0] for line in lines] == [
        "sandbox",
        "dev",
        "prod",
        "oss",
    ]
    assert lines[-1].endswith("2 registered_model, 3 model_alias in 1 file")


def test_example_uses_every_kind(example_project: Path) -> None:
    desired = load_desired_state(load_project(example_project), None)
    kinds = {r.kind for r in desired.resources.values()}
    assert kinds == set(KindName)


def test_variables_per_target(example_project: Path) -> None:
    project = load_project(example_project)
    prod = load_desired_state(project, "prod")
    assert "registered_model.prod.support.intent_classifier" in prod.resources
    alias = prod.resources["model_alias.prod.support.intent_classifier@champion"]
    assert alias.spec == ModelAliasSpec(
        model="prod.support.intent_classifier", alias="champion", version=2, approval="CHG-2187"
    )
    endpoint = prod.resources["serving_endpoint.support-intent"].spec
    assert isinstance(endpoint, ServingEndpointSpec)
    assert endpoint.served_entities[0].entity == "prod.support.intent_classifier@champion"
    assert endpoint.tags == {"team": "support", "cost_center": "cc-4711"}


def test_location_of_points_at_fields(example_project: Path) -> None:
    desired = load_desired_state(load_project(example_project, cwd=example_project), None)
    where = desired.location_of("serving_endpoint.support-intent", "served_entities.1.entity")
    assert where is not None and (where.file, where.line) == ("manifests/serving.yaml", 12)
    # A field that was not written falls back to its nearest written parent.
    parent = desired.location_of("serving_endpoint.support-intent", "served_entities.1.nope")
    assert parent is not None and parent.line == 11
    alias = desired.location_of("model_alias.main.support.intent_classifier@challenger", "version")
    assert alias is not None and (alias.file, alias.line) == ("manifests/models.yaml", 11)
    assert desired.location_of("serving_endpoint.nope") is None
    resource = desired.resources["vector_index.main.support.docs_index"]
    assert resource.location is not None and resource.location.line == 10


def test_found_from_a_subdirectory(example_project: Path) -> None:
    out = run_cli(["validate"], cwd=example_project / "manifests")
    assert out.exit_code == 0, out.stderr


def test_genai_endpoints_and_prod_overrides(example_project: Path) -> None:
    """The example serves an external model (its key a secret reference) and a foundation
    model with provisioned throughput, which prod overrides from both places."""
    project = load_project(example_project)
    sandbox = load_desired_state(project, "sandbox").resources
    chat = sandbox["serving_endpoint.support-chat"].spec.doc()
    (gpt,) = chat["served_entities"]
    assert gpt["external_model"]["openai_config"]["openai_api_key"].startswith("{{secrets/")
    summarize = sandbox["serving_endpoint.support-summarize"].spec.doc()
    assert summarize["served_entities"][0]["max_provisioned_throughput"] == 1850
    prod = load_desired_state(project, "prod").resources
    (llama,) = prod["serving_endpoint.support-summarize"].spec.doc()["served_entities"]
    assert (llama["min_provisioned_throughput"], llama["max_provisioned_throughput"]) == (
        1850,
        5550,
    )
    notify = prod["serving_endpoint.support-chat"].spec.doc()["email_notifications"]
    assert notify == {"on_update_failure": ["support-oncall@example.com"]}
