"""plan end to end: the example project against the sandbox, through the CLI and the real SDK.

The sandbox is filled to match the manifests through the SDK (as another tool or a person
would), so these tests check the plan against the server's own GET shapes and defaults. Filled
with this project's ownership markers, it plans nothing; without them, everything is adopted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import serving, vectorsearch

from reconciler.adapters.databricks.client import sandbox_client
from reconciler.adapters.databricks.model_tags import alias_inventory_key
from reconciler.adapters.databricks.serving_endpoint import QUOTA_TAG
from reconciler.adapters.databricks.vector_index import index_marker_key
from reconciler.cli import cli
from reconciler.commands.plan import make_plan
from reconciler.manifest import load_project
from reconciler.model.live import OWNER_TAG
from reconciler.sandbox import SandboxConfig, SandboxServer, register_versions_up_to

CLF = "main.support.intent_classifier"
SUM = "main.support.ticket_summarizer"
LLM = "databricks-meta-llama-3-3-70b-instruct"
PROJECT = "support-assistant"


@contextmanager
def workspace(project: Path) -> Iterator[WorkspaceClient]:
    """An SDK client on the project's sandbox state (the one the `sandbox` target uses)."""
    with SandboxServer(project / ".reconciler" / "sandbox", config=SandboxConfig.fast()) as srv:
        yield sandbox_client(srv.url)


def seed_versions(project: Path) -> None:
    with workspace(project) as w:
        register_versions_up_to(w, CLF, 3)
        register_versions_up_to(w, SUM, 1)


def fill_to_match(project: Path, *, owned: bool = True) -> None:
    """Create through the SDK what the example manifests declare; ``owned``: with the example
    project's ownership markers, as its apply would have left them."""
    with workspace(project) as w:
        register_versions_up_to(w, CLF, 3)
        register_versions_up_to(w, SUM, 1)
        w.registered_models.update(CLF, comment="Routes support tickets to the right queue")
        w.registered_models.update(SUM, comment="Summarizes long ticket threads for agents")
        w.api_client.do(
            "PATCH",
            f"/api/2.1/unity-catalog/securable-tags/FUNCTION/{CLF}",
            body={"changes": {"add_tags": [{"key": "team", "value": "support"}]}},
        )
        w.registered_models.set_alias(CLF, "champion", 2)
        # The manifest's approval of champion, as apply records it on the version.
        w.api_client.do(
            "POST",
            "/api/2.0/mlflow/unity-catalog/model-versions/set-tag",
            body={
                "name": CLF,
                "version": "2",
                "key": "reconciler.approval.champion",
                "value": "CHG-2187",
            },
        )
        w.registered_models.set_alias(CLF, "challenger", 3)
        w.registered_models.set_alias(SUM, "champion", 1)
        w.vector_search_endpoints.create_endpoint("docs-vs", vectorsearch.EndpointType.STANDARD)
        w.vector_search_endpoints.update_endpoint_custom_tags(
            "docs-vs", [vectorsearch.CustomTag(key="team", value="support")]
        )
        w.vector_search_indexes.create_index(
            "main.support.docs_index",
            "docs-vs",
            "doc_id",
            vectorsearch.VectorIndexType.DELTA_SYNC,
            delta_sync_index_spec=vectorsearch.DeltaSyncVectorIndexSpecRequest(
                source_table="main.support.docs",
                pipeline_type=vectorsearch.PipelineType.TRIGGERED,
                embedding_source_columns=[
                    vectorsearch.EmbeddingSourceColumn(
                        name="content", embedding_model_endpoint_name="databricks-bge-large-en"
                    )
                ],
                columns_to_sync=["doc_id", "title", "content"],
            ),
        )
        w.serving_endpoints.create(
            "support-intent",
            config=serving.EndpointCoreConfigInput(
                name="support-intent",
                served_entities=[
                    serving.ServedEntityInput(
                        name="champion",
                        entity_name=CLF,
                        entity_version="2",
                        workload_size="Small",
                        scale_to_zero_enabled=True,
                    ),
                    serving.ServedEntityInput(
                        name="challenger",
                        entity_name=CLF,
                        entity_version="3",
                        min_provisioned_concurrency=0,
                        max_provisioned_concurrency=8,
                        scale_to_zero_enabled=True,
                    ),
                ],
                traffic_config=serving.TrafficConfig(
                    routes=[
                        serving.Route(served_entity_name="champion", traffic_percentage=90),
                        serving.Route(served_entity_name="challenger", traffic_percentage=10),
                    ]
                ),
            ),
            ai_gateway=serving.AiGatewayConfig(
                usage_tracking_config=serving.AiGatewayUsageTrackingConfig(enabled=True)
            ),
            tags=[
                serving.EndpointTag(key="team", value="support"),
                serving.EndpointTag(key="cost_center", value="cc-4711"),
            ],
        )
        fill_genai(w)
        w.serving_endpoints.put_ai_gateway(
            LLM,
            rate_limits=[
                serving.AiGatewayRateLimit(
                    key=serving.AiGatewayRateLimitKey.USER_GROUP,
                    principal="support-agents",
                    tokens=20000,
                    renewal_period=serving.AiGatewayRateLimitRenewalPeriod.MINUTE,
                ),
                serving.AiGatewayRateLimit(
                    calls=1000, renewal_period=serving.AiGatewayRateLimitRenewalPeriod.MINUTE
                ),
            ],
        )
        if owned:
            mark_owned(w)


def mark_owned(w: WorkspaceClient) -> None:
    """The markers the example project's apply writes, on every asset it declares."""
    for model, aliases in ((CLF, "challenger,champion"), (SUM, "champion")):
        tags = [{"key": OWNER_TAG, "value": PROJECT}]
        tags.append({"key": alias_inventory_key(PROJECT), "value": aliases})
        w.api_client.do(
            "PATCH",
            f"/api/2.1/unity-catalog/securable-tags/FUNCTION/{model}",
            body={"changes": {"add_tags": tags}},
        )
    w.vector_search_endpoints.update_endpoint_custom_tags(
        "docs-vs",
        [
            vectorsearch.CustomTag(key="team", value="support"),
            vectorsearch.CustomTag(key=OWNER_TAG, value=PROJECT),
            vectorsearch.CustomTag(key=index_marker_key("main.support.docs_index"), value=PROJECT),
        ],
    )
    w.serving_endpoints.patch(
        "support-intent", add_tags=[serving.EndpointTag(key=OWNER_TAG, value=PROJECT)]
    )
    w.serving_endpoints.patch(LLM, add_tags=[serving.EndpointTag(key=QUOTA_TAG, value=PROJECT)])


def fill_genai(w: WorkspaceClient) -> None:
    """The example's external model and provisioned-throughput endpoints (manifests/genai.yaml)."""
    chat = {
        "name": "gpt",
        "external_model": {
            "name": "gpt-4o-mini",
            "provider": "openai",
            "task": "llm/v1/chat",
            "openai_config": {"openai_api_key": "{{secrets/support/openai-api-key}}"},
        },
    }
    w.api_client.do(
        "POST",
        "/api/2.0/serving-endpoints",
        body={
            "name": "support-chat",
            "description": "Drafts replies to support tickets",
            "config": {"name": "support-chat", "served_entities": [chat]},
            "ai_gateway": {"usage_tracking_config": {"enabled": True}},
            "email_notifications": {"on_update_failure": ["support-ml@example.com"]},
            "tags": [{"key": "team", "value": "support"}, {"key": OWNER_TAG, "value": PROJECT}],
        },
    )
    llama = {
        "name": "llama",
        "entity_name": "system.ai.meta_llama_v3_1_8b_instruct",
        "entity_version": "3",
        "min_provisioned_throughput": 0,
        "max_provisioned_throughput": 1850,
        "scale_to_zero_enabled": True,
    }
    w.api_client.do(
        "POST",
        "/api/2.0/serving-endpoints",
        body={
            "name": "support-summarize",
            "config": {"name": "support-summarize", "served_entities": [llama]},
            "tags": [{"key": "team", "value": "support"}, {"key": OWNER_TAG, "value": PROJECT}],
        },
    )


def plan(project: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--project", str(project), "plan", *args])


def plan_json(project: Path) -> dict[str, Any]:
    result = plan(project, "--format", "json")
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def diffs_by_address(doc: dict[str, Any]) -> dict[str, list[tuple[str, Any, Any]]]:
    return {
        c["address"]: [(d["path"], d["before"], d["after"]) for d in c["diffs"]]
        for c in doc["changes"]
    }


def test_example_project_plans_creates_in_dependency_order(example_project: Path) -> None:
    seed_versions(example_project)
    doc = plan_json(example_project)
    order = [c["address"] for c in doc["changes"]]
    for position, change in enumerate(doc["changes"]):
        for dep in change["depends_on"]:
            if dep in order:
                assert order.index(dep) < position, (change["address"], dep)
    actions = {c["address"]: c["action"] for c in doc["changes"]}
    assert actions["serving_endpoint.support-intent"] == "create"
    assert actions["vector_index.main.support.docs_index"] == "create"
    assert order.index("vector_search_endpoint.docs-vs") < order.index(
        "vector_index.main.support.docs_index"
    )
    assert order.index(f"model_alias.{CLF}@champion") < order.index(
        "serving_endpoint.support-intent"
    )
    endpoint = next(c for c in doc["changes"] if c["address"] == "serving_endpoint.support-intent")
    assert f"model_alias.{CLF}@champion" in endpoint["depends_on"]
    # The quota's endpoint is a foundation model endpoint the sandbox already has, and the
    # models come from the training pipeline: nobody owns them yet, so they are adopted.
    assert actions[f"quota.{LLM}"] == "adopt"
    assert actions[f"registered_model.{CLF}"] == "adopt"
    assert doc["summary"]["create"] == 8 and doc["summary"]["adopt"] == 3


def test_plan_is_empty_when_the_workspace_matches(example_project: Path) -> None:
    fill_to_match(example_project)
    result = plan(example_project, "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == "No changes."


def test_assets_made_by_hand_are_adopted_then_owned(example_project: Path) -> None:
    """Nobody's assets that match the manifests: every one is an adopt without field diffs;
    apply writes the markers and nothing else (no config update); then nothing to plan, and
    the project can prune them like its own."""
    fill_to_match(example_project, owned=False)
    doc = plan_json(example_project)
    assert {c["action"] for c in doc["changes"]} == {"adopt"}
    assert all(c["diffs"] == [] for c in doc["changes"])
    assert doc["summary"] == {"create": 0, "update": 0, "replace": 0, "delete": 0, "adopt": 9}
    with workspace(example_project) as w:
        version_before = w.serving_endpoints.get("support-intent").config.config_version  # type: ignore[union-attr]
    # Every write but a marker fails: adopting without diffs must make none of them.
    not_markers = ",".join(
        f"{operation}=400"
        for operation in [
            "registered_models.update",
            "registered_models.set_alias",
            "mlflow.set_model_version_tag",
            "serving_endpoints.update_config",
            "serving_endpoints.put_ai_gateway",
            "permissions.set",
            "vector_search_endpoints.update_endpoint_budget_policy",
            "vector_search_indexes.create_index",
        ]
    )
    applied = CliRunner().invoke(
        cli,
        ["--project", str(example_project), "apply", "--auto-approve"],
        env={"RECONCILER_SANDBOX_FAIL_OPERATIONS": not_markers},
    )
    assert applied.exit_code == 0, applied.output
    assert plan(example_project, "--detailed-exitcode").exit_code == 0
    with workspace(example_project) as w:
        endpoint = w.serving_endpoints.get("support-intent")
        assert endpoint.config is not None and endpoint.config.config_version == version_before
        tags = {t.key: t.value for t in endpoint.tags or []}
        assert tags[OWNER_TAG] == PROJECT and tags["cost_center"] == "cc-4711"
        llama = {t.key: t.value for t in w.serving_endpoints.get(LLM).tags or []}
        assert llama[QUOTA_TAG] == PROJECT
        vs = {
            t.key: t.value
            for t in w.vector_search_endpoints.get_endpoint("docs-vs").custom_tags or []
        }
        assert vs[OWNER_TAG] == PROJECT
        assert vs[index_marker_key("main.support.docs_index")] == PROJECT


def test_changing_one_alias_plans_that_alias_and_the_served_version(
    example_project: Path,
) -> None:
    fill_to_match(example_project)
    models = example_project / "manifests" / "models.yaml"
    text = models.read_text()
    assert "champion: {version: 2, approval: CHG-2187}" in text
    models.write_text(text.replace("champion: {version: 2,", "champion: {version: 3,"))
    doc = plan_json(example_project)
    assert diffs_by_address(doc) == {
        f"model_alias.{CLF}@champion": [("version", 2, 3)],
        "serving_endpoint.support-intent": [("served_entities.champion.version", 2, 3)],
    }
    assert [c["address"] for c in doc["changes"]] == [
        f"model_alias.{CLF}@champion",
        "serving_endpoint.support-intent",
    ]


def test_field_changed_behind_the_back_shows_as_an_update(example_project: Path) -> None:
    fill_to_match(example_project)
    with workspace(example_project) as w:
        w.registered_models.update(CLF, comment="edited in the UI")
        w.serving_endpoints.patch(
            "support-intent", add_tags=[serving.EndpointTag(key="team", value="other")]
        )
    doc = plan_json(example_project)
    assert diffs_by_address(doc) == {
        f"registered_model.{CLF}": [
            ("comment", "edited in the UI", "Routes support tickets to the right queue")
        ],
        "serving_endpoint.support-intent": [("tags.team", "other", "support")],
    }
    assert all(c["action"] == "update" for c in doc["changes"])


def test_detailed_exitcode_verbose_counts_and_saved_plan(
    example_project: Path, tmp_path: Path
) -> None:
    seed_versions(example_project)
    out = tmp_path / "plan.json"
    result = plan(example_project, "-o", str(out), "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    saved = json.loads(out.read_text())
    assert saved["fingerprint"] and saved["target"] == "sandbox"
    assert saved["summary"] == plan_json(example_project)["summary"]
    verbose = CliRunner().invoke(cli, ["--project", str(example_project), "-v", "plan"])
    assert verbose.exit_code == 0, verbose.output
    assert "API calls" in verbose.stderr


def test_missing_version_fails_with_the_manifest_location(example_project: Path) -> None:
    with workspace(example_project) as w:
        register_versions_up_to(w, CLF, 2)
        register_versions_up_to(w, SUM, 1)
    result = plan(example_project)
    assert result.exit_code == 1
    assert "models.yaml:" in result.stderr
    assert f"version 3 of model {CLF} does not exist" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("fmt", ["markdown", "text"])
def test_other_formats_render(example_project: Path, fmt: str) -> None:
    seed_versions(example_project)
    result = plan(example_project, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "Plan: 8 to create, 3 to adopt, 0 to update, 0 to replace, 0 to delete." in result.stdout
    loud = "3 ASSETS TO ADOPT" if fmt == "text" else "**3 asset(s) to adopt**"
    assert loud in result.stdout


def read_counts(project: Path) -> tuple[int, set[tuple[str, int]]]:
    """The API calls a plan of the project made, and the model versions it read."""
    result = make_plan(load_project(project), None)
    return result.live.api_calls, set(result.live.versions)


def test_a_matching_workspace_costs_one_call_per_object_and_reads_no_version(
    example_project: Path,
) -> None:
    fill_to_match(example_project)
    calls, versions = read_counts(example_project)
    # 2 models (aliases and tags in one call each), the 3 endpoints, the quota's endpoint, one
    # list of Vector Search endpoints, the index, champion's approval (its manifest sets one),
    # and the throughput-served model's optimization info (its chunk size checks the bounds).
    # The 3 aliases and 3 served model entities already point at their versions: no version
    # is read. (The assets carry their markers: no listing of create intents either.)
    assert (calls, versions) == (10, set())


def test_moving_an_alias_reads_the_version_it_moves_to_and_only_that(
    example_project: Path,
) -> None:
    fill_to_match(example_project)
    models = example_project / "manifests" / "models.yaml"
    models.write_text(
        models.read_text().replace("champion: {version: 2,", "champion: {version: 3,")
    )
    calls, versions = read_counts(example_project)
    # champion and the endpoint's champion entity both move to version 3: one version read.
    assert (calls, versions) == (11, {(CLF, 3)})


def test_an_owner_in_the_manifest_costs_one_more_call(example_project: Path) -> None:
    fill_to_match(example_project)
    models = example_project / "manifests" / "models.yaml"
    models.write_text(
        models.read_text().replace(
            "comment: Summarizes long ticket threads for agents",
            "comment: Summarizes long ticket threads for agents\n    owner: ml-team",
        )
    )
    result = make_plan(load_project(example_project), None)
    assert result.live.api_calls == 11
    assert [(c.address, [(d.path, d.after) for d in c.diffs]) for c in result.plan.changes] == [
        (f"registered_model.{SUM}", [("owner", "ml-team")])
    ]
