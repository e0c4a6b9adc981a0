"""`reconciler import`: manifests from live assets; planning against them changes no field
(assets nobody owned are adopted: only their ownership markers are written)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from databricks.sdk.service.serving import (
    EndpointCoreConfigInput,
    ExternalModel,
    ExternalModelProvider,
    OpenAiConfig,
    ServedEntityInput,
)
from databricks.sdk.service.vectorsearch import EndpointType
from gitops.live import MODEL, LiveProject, start

from reconciler.adapters.databricks.client import sandbox_client
from reconciler.importer import import_assets
from reconciler.model.resources import KindName
from reconciler.sandbox import SandboxConfig, SandboxServer, register_versions_up_to

FAST = {"RECONCILER_SANDBOX_DELAY_CONFIG_UPDATE": "0.01"}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveProject]:
    project = start(tmp_path)
    yield project
    project.stop()


def test_round_trip_plan_is_empty(live: LiveProject) -> None:
    live.stop()
    shutil.rmtree(live.root / "manifests")
    imported = live.cli("import", "--out", "manifests", env=FAST)
    assert imported.exit_code == 0, imported.output
    names = sorted(p.name for p in (live.root / "manifests").iterdir())
    assert names == [
        "quotas.yaml",
        "registered_models.yaml",
        "serving_endpoints.yaml",
        "vector_indexes.yaml",
        "vector_search_endpoints.yaml",
    ]
    assert "skipped serving_endpoint.databricks-bge-large-en" in imported.output
    assert "no project owns yet" not in imported.output, "the round trip imports its own assets"
    plan = live.cli("plan", "--detailed-exitcode", env=FAST)
    assert plan.exit_code == 0, plan.output

    models = yaml.safe_load((live.root / "manifests" / "registered_models.yaml").read_text())
    first = models["registered_models"][0]
    assert first["name"] == MODEL
    assert first["aliases"] == {"challenger": 3, "champion": 2}
    assert "owner" not in first, "server defaults are left out"
    endpoint = yaml.safe_load((live.root / "manifests" / "serving_endpoints.yaml").read_text())
    entries = {e["name"]: e for e in endpoint["serving_endpoints"]}
    assert sorted(entries) == ["support-chat", "support-intent", "support-summarize"]
    entry = entries["support-intent"]
    assert "route_optimized" not in entry
    assert list(entry)[:2] == ["name", "served_entities"]

    written = {p.name: p.read_text() for p in (live.root / "manifests").iterdir()}
    shutil.rmtree(live.root / "manifests")
    assert live.cli("import", "--out", "manifests", env=FAST).exit_code == 0
    again = {p.name: p.read_text() for p in (live.root / "manifests").iterdir()}
    assert again == written, "stable output"

    more = live.cli("import", "--out", "manifests/more", env=FAST)
    assert more.exit_code == 0, more.output
    assert f"skipped registered_model.{MODEL}: already declared in the manifests" in more.output
    assert not (live.root / "manifests" / "more").exists()


def test_import_warns_about_each_live_field_no_manifest_can_express(live: LiveProject) -> None:
    path = "/api/2.0/serving-endpoints/support-intent/telemetry-config"
    body = {"telemetry_config": {"enabled_telemetry_features": ["TELEMETRY_FEATURE_LOGS"]}}
    live.sdk.api_client.do("PATCH", path, body=body)
    live.stop()
    shutil.rmtree(live.root / "manifests")
    imported = live.cli("import", "--kind", "serving_endpoint", "--out", "manifests", env=FAST)
    assert imported.exit_code == 0, imported.output
    warnings = [line for line in imported.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: serving_endpoint.support-intent: telemetry_config is set live but cannot be"
        " written in a manifest; apply keeps its live value"
    ]
    written = (live.root / "manifests" / "serving_endpoints.yaml").read_text()
    assert "telemetry" not in written


def test_kind_and_name_filters(live: LiveProject, tmp_path: Path) -> None:
    result = import_assets(
        live.workspace,
        [KindName.REGISTERED_MODEL],
        pattern="*.ticket_*",
        project="support-assistant",
    )
    assert list(result.entries) == [KindName.REGISTERED_MODEL]
    assert [e["name"] for e in result.entries[KindName.REGISTERED_MODEL]] == [
        "main.support.ticket_summarizer"
    ]
    quotas = import_assets(live.workspace, [KindName.QUOTA], project="support-assistant")
    assert [e["endpoint"] for e in quotas.entries[KindName.QUOTA]] == [
        "databricks-meta-llama-3-3-70b-instruct"
    ]
    none = import_assets(live.workspace, [KindName.VECTOR_INDEX], pattern="nothing*")
    assert none.entries == {} and none.count() == 0


def test_assets_of_another_project_are_skipped(live: LiveProject) -> None:
    result = import_assets(
        live.workspace,
        [KindName.SERVING_ENDPOINT, KindName.VECTOR_SEARCH_ENDPOINT],
        project="other",
    )
    skipped = dict(result.skipped)
    assert skipped["serving_endpoint.support-intent"] == "owned by project 'support-assistant'"
    assert skipped["vector_search_endpoint.docs-vs"] == "owned by project 'support-assistant'"


def test_unmanaged_assets_made_by_hand(tmp_path: Path) -> None:
    """Assets nobody's project owns (made in the UI): import, then the plan adopts them
    without a field diff; once applied, the plan is empty."""
    live = start(tmp_path, apply=False)
    try:
        register_versions_up_to(live.sdk, "main.ml.churn", 2)
        live.sdk.registered_models.update("main.ml.churn", comment="churn model")
        live.sdk.registered_models.set_alias("main.ml.churn", "prod", 2)
        live.sdk.vector_search_endpoints.create_endpoint(
            "hand-made",
            endpoint_type=EndpointType.STANDARD,
        )
    finally:
        live.stop()
    shutil.rmtree(live.root / "manifests")
    (live.root / "reconciler.yaml").write_text(
        "project: adopted\ntargets:\n  sandbox: {type: sandbox}\n"
    )
    imported = live.cli(
        "import",
        "--kind",
        "registered_model",
        "--kind",
        "vector_search_endpoint",
        "--name",
        "*churn*",
        "--out",
        "manifests",
        env=FAST,
    )
    assert imported.exit_code == 0, imported.output
    assert "1 asset imported;" in imported.stdout
    assert "no project owns it yet: the plan adopts it (no field changes)" in imported.stdout
    files = sorted(p.name for p in (live.root / "manifests").iterdir())
    assert files == ["registered_models.yaml"]
    doc = yaml.safe_load((live.root / "manifests" / "registered_models.yaml").read_text())
    assert doc == {
        "registered_models": [
            {"name": "main.ml.churn", "comment": "churn model", "aliases": {"prod": 2}}
        ]
    }
    imported = live.cli(
        "import", "--kind", "vector_search_endpoint", "--out", "manifests", env=FAST
    )
    assert imported.exit_code == 0, imported.output
    plan = live.cli("plan", "--format", "json", env=FAST)
    assert plan.exit_code == 0, plan.output
    changes = json.loads(plan.stdout)["changes"]
    assert {(c["address"], c["action"]) for c in changes} == {
        ("registered_model.main.ml.churn", "adopt"),
        ("model_alias.main.ml.churn@prod", "adopt"),
        ("vector_search_endpoint.hand-made", "adopt"),
    }
    assert all(c["diffs"] == [] for c in changes), "the import is faithful"
    applied = live.cli("apply", "--auto-approve", env=FAST)
    assert applied.exit_code == 0, applied.output
    assert live.cli("plan", "--detailed-exitcode", env=FAST).exit_code == 0

    # A new model made by hand: its kind's file exists, so importing it is refused without
    # --force; into another directory it is adopted, and the already declared one is skipped.
    server = SandboxServer(live.root / ".reconciler" / "sandbox", config=SandboxConfig.fast())
    server.start()
    try:
        register_versions_up_to(sandbox_client(server.url), "main.ml.fraud", 1)
    finally:
        server.stop()
    refused = live.cli("import", "--kind", "registered_model", "--out", "manifests", env=FAST)
    assert refused.exit_code == 1
    assert "would overwrite" in refused.output and "--force" in refused.output
    assert "skipped registered_model.main.ml.churn: already declared" in refused.output
    elsewhere = live.cli("import", "--kind", "registered_model", "--out", "manifests/new", env=FAST)
    assert elsewhere.exit_code == 0, elsewhere.output
    new = yaml.safe_load((live.root / "manifests" / "new" / "registered_models.yaml").read_text())
    names = [m["name"] for m in new["registered_models"]]
    assert names[0] == "main.ml.fraud" and "main.ml.churn" not in names
    adopt = live.cli("plan", "--detailed-exitcode", env=FAST)
    assert adopt.exit_code == 2 and "<= registered_model.main.ml.fraud (adopt)" in adopt.stdout


def test_endpoint_with_a_plaintext_credential_is_skipped_saying_why(tmp_path: Path) -> None:
    """An endpoint made by hand with ``*_plaintext`` credentials cannot be imported (the API
    never returns them, and a manifest holds references only): the skip says so and how to
    fix it, names the entity and field, and never repeats the value."""
    live = start(tmp_path, apply=False)
    try:
        live.sdk.serving_endpoints.create(
            name="hand-chat",
            config=EndpointCoreConfigInput(
                name="hand-chat",
                served_entities=[
                    ServedEntityInput(
                        name="gpt",
                        external_model=ExternalModel(
                            provider=ExternalModelProvider.OPENAI,
                            name="gpt-4o",
                            task="llm/v1/chat",
                            openai_config=OpenAiConfig(openai_api_key_plaintext="sk-HANDMADE42"),
                        ),
                    )
                ],
            ),
        )
    finally:
        live.stop()
    shutil.rmtree(live.root / "manifests")
    imported = live.cli(
        "import", "--kind", "serving_endpoint", "--name", "hand-*", "--out", "m", env=FAST
    )
    assert imported.exit_code == 0, imported.output
    line = next(x for x in imported.output.splitlines() if "serving_endpoint.hand-chat" in x)
    assert line.startswith("skipped serving_endpoint.hand-chat: served entity 'gpt'"), line
    assert "openai_config.openai_api_key" in line and "plaintext" in line
    assert "{{secrets/" in line, "says what to write instead"
    assert "Value error" not in line and "needs openai_config" not in line
    assert "sk-HANDMADE42" not in imported.output
    assert "matched" not in imported.output, "it matched, and was skipped"
    assert "nothing imported: the 1 serving_endpoint matching 'hand-*' was skipped" in (
        imported.output
    )
