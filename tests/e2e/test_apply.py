"""apply end to end: the example project on the sandbox, through the CLI and the real SDK."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from apply.e2e_helpers import (
    counts,
    edit,
    fast_sandbox,
    live_client,
    plan_exit,
    run,
    seed,
    state_dir,
)

from reconciler.apply.lock import FileLock
from reconciler.model.live import OWNER_TAG


@pytest.fixture
def applied(example_project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example project, seeded and applied once."""
    fast_sandbox(monkeypatch)
    seed(example_project)
    result = run(example_project, "apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    return example_project


def test_apply_then_plan_is_empty(applied: Path) -> None:
    code, output = plan_exit(applied)
    assert code == 0, output
    again = run(applied, "apply", "--auto-approve")
    assert again.exit_code == 0 and "No changes" in again.output
    with live_client(applied) as client:
        ep = client.serving_endpoints.get("support-intent")
        tags = {t.key: t.value for t in ep.tags or []}
        assert tags[OWNER_TAG] == "support-assistant"
        assert tags["team"] == "support" and tags["cost_center"] == "cc-4711"


def test_alias_scaling_traffic_and_quota_changes_converge(applied: Path) -> None:
    manifests = applied / "manifests"
    edit(
        manifests / "models.yaml",
        "champion: {version: 2, approval: CHG-2187}",
        "champion: {version: 3, approval: CHG-2201}",
    )
    edit(manifests / "models.yaml", "challenger: 3", "challenger: 2")
    edit(manifests / "serving.yaml", "workload_size: Small", "workload_size: Medium")
    edit(
        manifests / "serving.yaml",
        "max_provisioned_concurrency: 8",
        "max_provisioned_concurrency: 16",
    )
    edit(
        manifests / "serving.yaml",
        "traffic: {champion: 90, challenger: 10}",
        "traffic: {champion: 50, challenger: 50}",
    )
    edit(manifests / "quotas.yaml", "tokens_per_minute: 20000", "tokens_per_minute: 30000")
    assert plan_exit(applied)[0] == 2
    result = run(applied, "apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    code, output = plan_exit(applied)
    assert code == 0, output
    with live_client(applied) as client:
        assert (
            client.model_versions.get_by_alias("main.support.intent_classifier", "champion").version
            == 3
        )
        ep = client.serving_endpoints.get("support-intent")
        assert ep.config is not None and ep.config.traffic_config is not None
        routes = {
            r.served_entity_name: r.traffic_percentage
            for r in ep.config.traffic_config.routes or []
        }
        assert routes == {"champion": 50, "challenger": 50}
        llama = client.serving_endpoints.get("databricks-meta-llama-3-3-70b-instruct")
        assert llama.ai_gateway is not None
        tokens = {r.principal: r.tokens for r in llama.ai_gateway.rate_limits or []}
        assert tokens["support-agents"] == 30000


def test_destructive_plan_is_refused_before_any_write(applied: Path) -> None:
    manifests = applied / "manifests"
    edit(manifests / "vector_search.yaml", "primary_key: doc_id", "primary_key: id")
    edit(manifests / "models.yaml", "challenger: 3", "challenger: 1")
    refused = run(applied, "apply", "--auto-approve")
    assert refused.exit_code == 1
    assert "--allow-delete" in refused.output
    assert "vector_index.main.support.docs_index" in refused.output
    assert "nothing was applied" in refused.output
    # The alias move in the same plan did not happen either.
    with live_client(applied) as client:
        assert (
            client.model_versions.get_by_alias(
                "main.support.intent_classifier", "challenger"
            ).version
            == 3
        )
    allowed = run(applied, "apply", "--auto-approve", "--allow-delete")
    assert allowed.exit_code == 0, allowed.output
    assert plan_exit(applied)[0] == 0


def test_stale_plan_file_is_refused(applied: Path, tmp_path: Path) -> None:
    edit(applied / "manifests" / "models.yaml", "challenger: 3", "challenger: 1")
    plan_file = tmp_path / "plan.json"
    assert run(applied, "plan", "-o", str(plan_file)).exit_code == 0
    with live_client(applied) as client:  # someone moves the alias meanwhile
        client.registered_models.set_alias("main.support.intent_classifier", "challenger", 2)
    stale = run(applied, "apply", str(plan_file))
    assert stale.exit_code == 1
    assert "stale" in stale.output and "plan -t sandbox -o" in stale.output
    assert run(applied, "plan", "-o", str(plan_file)).exit_code == 0
    fresh = run(applied, "apply", str(plan_file))
    assert fresh.exit_code == 0, fresh.output
    assert plan_exit(applied)[0] == 0


def test_apply_without_terminal_or_auto_approve_refuses(applied: Path) -> None:
    edit(applied / "manifests" / "models.yaml", "challenger: 3", "challenger: 1")
    result = run(applied, "apply")
    assert result.exit_code == 1
    assert "--auto-approve" in result.output
    assert plan_exit(applied)[0] == 2


def test_second_apply_on_a_locked_target_names_the_holder(applied: Path) -> None:
    edit(applied / "manifests" / "models.yaml", "challenger: 3", "challenger: 1")
    lock = FileLock(state_dir(applied) / "apply.lock", target="sandbox").__enter__()
    try:
        refused = run(applied, "apply", "--auto-approve")
        assert refused.exit_code == 1
        assert "target 'sandbox' is locked by" in refused.output
        assert "pid" in refused.output and "--lock-timeout" in refused.output
        threading.Timer(0.5, lock.__exit__, args=(None, None, None)).start()
        waited = run(applied, "apply", "--auto-approve", "--lock-timeout", "30")
        assert waited.exit_code == 0, waited.output
    finally:
        lock.__exit__(None, None, None)
    assert plan_exit(applied)[0] == 0


def test_partial_failure_names_failed_and_skipped_then_rerun_converges(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_sandbox(monkeypatch, fail_operations="vector_search_endpoints.create_endpoint=400")
    seed(example_project)
    result = run(example_project, "apply", "--auto-approve")
    assert result.exit_code == 1
    summary = result.output[result.output.index("Apply incomplete") :]
    applied, failed, skipped = counts(summary)
    assert (failed, skipped) == (1, 1) and applied >= 5
    assert "failed   vector_search_endpoint.docs-vs: INVALID_PARAMETER_VALUE" in summary
    assert (
        "skipped  vector_index.main.support.docs_index: vector_search_endpoint.docs-vs failed"
        in summary
    )
    monkeypatch.delenv("RECONCILER_SANDBOX_FAIL_OPERATIONS")
    rerun = run(example_project, "apply", "--auto-approve")
    assert rerun.exit_code == 0, rerun.output
    assert "vector_index.main.support.docs_index" in rerun.output
    assert "0 failed, 0 skipped" in rerun.output
    assert plan_exit(example_project)[0] == 0


def test_injected_faults_are_ridden_out(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = ",".join(
        [
            "serving_endpoints.create=500x2",
            "serving_endpoints.put_ai_gateway=503x1",
            "registered_models.set_alias=429x1",
            "registered_models.update=409x2",
            "vector_search_indexes.create_index=500x1",
        ]
    )
    fast_sandbox(monkeypatch, fail_operations=faults, slow_readiness="0.3", retry_after="1")
    seed(example_project)
    result = run(example_project, "apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    monkeypatch.delenv("RECONCILER_SANDBOX_FAIL_OPERATIONS")
    assert plan_exit(example_project)[0] == 0


def test_json_log_mode_prints_quiet_event_lines(applied: Path) -> None:
    edit(applied / "manifests" / "models.yaml", "challenger: 3", "challenger: 1")
    result = run(applied, "--log-format", "json", "apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert '"event": "apply.applied"' in result.output
    assert '"address": "model_alias.main.support.intent_classifier@challenger"' in result.output


def test_gateway_and_quota_of_one_endpoint_in_one_plan_converge(applied: Path) -> None:
    manifests = applied / "manifests"
    with (manifests / "quotas.yaml").open("a") as f:
        f.write(
            "  - endpoint: support-intent\n"
            "    rate_limits:\n"
            "      - {key: user, calls_per_minute: 60}\n"
        )
    edit(
        manifests / "serving.yaml",
        "usage_tracking: true",
        "usage_tracking: true\n      fallbacks: true",
    )
    result = run(applied, "apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert plan_exit(applied)[0] == 0
    with live_client(applied) as client:
        gateway = client.serving_endpoints.get("support-intent").ai_gateway
        assert gateway is not None and gateway.fallback_config is not None
        assert gateway.fallback_config.enabled
        assert [(r.key and r.key.value, r.calls) for r in gateway.rate_limits or []] == [
            ("user", 60)
        ]
