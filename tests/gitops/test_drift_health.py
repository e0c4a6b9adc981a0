"""Health beside sync, end to end: the sandbox breaks declared assets the way a workspace does
(a config update that fails on a version that is not READY; a Vector Search endpoint stopped,
taking its index OFFLINE), and `plan`, `drift` and the drift issue report them with the
workspace's own message. Drift exits 2 on them although nothing differs from the manifests."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from databricks.sdk.service.serving import Route, ServedEntityInput, TrafficConfig

from gitops.fake_github import FakeGitHub
from gitops.live import ENDPOINT, INDEX, MODEL, LiveProject, start
from reconciler.cli import cli
from reconciler.sandbox import register_versions_up_to

FAST = {"RECONCILER_SANDBOX_DELAY_CONFIG_UPDATE": "0.01"}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveProject]:
    project = start(tmp_path)
    yield project
    project.stop()


def _fail_an_update(live: LiveProject) -> None:
    """Someone points the champion at version 4, whose registration failed: the update ends
    UPDATE_FAILED and the old config keeps serving (so the manifests still match)."""
    register_versions_up_to(live.sdk, MODEL, 4)
    live.sdk.api_client.do(
        "POST",
        "/sandbox/model-versions/status",
        body={"full_name": MODEL, "version": 4, "status": "FAILED_REGISTRATION"},
    )
    live.sdk.serving_endpoints.update_config(
        ENDPOINT,
        served_entities=[
            ServedEntityInput(
                name="champion",
                entity_name=MODEL,
                entity_version="4",
                workload_size="Small",
                scale_to_zero_enabled=True,
            ),
            ServedEntityInput(
                name="challenger",
                entity_name=MODEL,
                entity_version="3",
                min_provisioned_concurrency=0,
                max_provisioned_concurrency=8,
                scale_to_zero_enabled=True,
            ),
        ],
        traffic_config=TrafficConfig(
            routes=[
                Route(served_entity_name="champion", traffic_percentage=90),
                Route(served_entity_name="challenger", traffic_percentage=10),
            ]
        ),
    )
    for _ in range(200):
        state = live.sdk.serving_endpoints.get(ENDPOINT).state
        if state is not None and str(getattr(state.config_update, "value", "")) == "UPDATE_FAILED":
            return
        time.sleep(0.02)
    raise AssertionError("the config update did not fail")


def test_failed_config_update_is_degraded_in_plan_and_drift(live: LiveProject) -> None:
    _fail_an_update(live)
    live.stop()
    planned = live.cli("plan", "--format", "json", "--detailed-exitcode", env=FAST)
    assert planned.exit_code == 0, planned.output  # nothing to change: the old config serves
    (health,) = json.loads(planned.stdout)["health"]
    assert health["address"] == f"serving_endpoint.{ENDPOINT}"
    assert health["status"] == "degraded"
    assert health["message"].startswith("config update ended UPDATE_FAILED: champion:")
    assert (
        f"Model version {MODEL} version 4 is FAILED_REGISTRATION, not READY." in (health["message"])
    )
    text = live.cli("plan", env=FAST).stdout
    assert "Health: 1 declared asset is not healthy (1 degraded, 0 progressing)." in text
    assert f"! serving_endpoint.{ENDPOINT} degraded: config update ended UPDATE_FAILED" in text

    drift = live.cli("drift", env=FAST)
    assert drift.exit_code == 2, drift.output
    assert "in sync with the manifests" in drift.output
    assert "exit 2: degraded assets" in drift.output
    data = json.loads(live.cli("drift", "--format", "json", env=FAST).stdout)
    assert data["in_sync"] is True and data["healthy"] is False


def test_stopped_vector_search_endpoint_and_offline_index_open_the_drift_issue(
    live: LiveProject, tmp_path: Path
) -> None:
    live.sdk.vector_search_endpoints.stop_endpoint("docs-vs")
    live.stop()
    drift = live.cli("drift", "--format", "markdown", env=FAST)
    assert drift.exit_code == 2, drift.output
    assert "| `vector_search_endpoint.docs-vs` | degraded | `STOPPED: Endpoint is stopped.` |" in (
        drift.stdout
    )
    assert (
        f"| `vector_index.{INDEX}` | degraded | `OFFLINE: Endpoint docs-vs is not available.` |"
        in drift.stdout
    )
    report = tmp_path / "drift.md"
    report.write_text(drift.stdout)
    with FakeGitHub() as github:
        posted = CliRunner().invoke(
            cli,
            ["gitops", "drift-issue", "-t", "sandbox", "--exit-code", "2", "--report", str(report)],
            env=github.env(),
        )
        assert posted.exit_code == 0, posted.output
        (issue,) = github.state.issues.values()
    assert issue["state"] == "open"
    assert "| `vector_search_endpoint.docs-vs` | degraded |" in issue["body"]
    assert f"| `vector_index.{INDEX}` | degraded |" in issue["body"]
    assert "A degraded asset" in issue["body"]


def test_restarted_endpoint_is_healthy_again(live: LiveProject) -> None:
    live.sdk.vector_search_endpoints.stop_endpoint("docs-vs")
    live.sdk.vector_search_endpoints.start_endpoint("docs-vs")
    for _ in range(200):
        if not live.plan().plan.health:
            break
        time.sleep(0.02)
    assert live.plan().plan.health == ()
    live.stop()
    assert live.cli("drift", env=FAST).exit_code == 0
