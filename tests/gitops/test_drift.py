"""`reconciler drift` against a sandbox the example project was applied to: each asset kind
changed behind git's back, ignore rules, exit codes and formats."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from databricks.sdk.service.serving import (
    AiGatewayRateLimit,
    AiGatewayRateLimitKey,
    AiGatewayRateLimitRenewalPeriod,
    EndpointTag,
)
from databricks.sdk.service.vectorsearch import CustomTag
from fixtures.project import REPO_ROOT

from gitops.live import ENDPOINT, INDEX, LLM, MODEL, LiveProject, start
from reconciler.gitops.drift import DriftReport, Status, drift_from_plan


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveProject]:
    project = start(tmp_path)
    yield project
    project.stop()


def drift(live: LiveProject) -> DriftReport:
    return drift_from_plan(live.plan().plan)


def fields(report: DriftReport, address: str) -> dict[str, tuple[object, object]]:
    asset = next(a for a in report.drifted if a.address == address)
    return {f.path: (f.live, f.manifest) for f in asset.fields}


def test_in_sync_after_apply(live: LiveProject) -> None:
    assert drift(live).in_sync
    live.stop()
    result = live.cli("drift")
    assert result.exit_code == 0, result.output
    assert "in sync" in result.output


def test_registered_model_comment(live: LiveProject) -> None:
    live.sdk.registered_models.update(MODEL, comment="edited in the UI")
    report = drift(live)
    assert fields(report, f"registered_model.{MODEL}") == {
        "comment": ("edited in the UI", "Routes support tickets to the right queue")
    }
    assert len(report.drifted) == 1


def test_model_alias_moved(live: LiveProject) -> None:
    live.sdk.registered_models.set_alias(MODEL, "champion", 3)
    assert fields(drift(live), f"model_alias.{MODEL}@champion") == {"version": (3, 2)}


def test_serving_endpoint_tag(live: LiveProject) -> None:
    live.sdk.serving_endpoints.patch(ENDPOINT, add_tags=[EndpointTag(key="team", value="ops")])
    report = drift(live)
    assert fields(report, f"serving_endpoint.{ENDPOINT}") == {"tags.team": ("ops", "support")}


def test_vector_search_endpoint_tags(live: LiveProject) -> None:
    live.sdk.vector_search_endpoints.update_endpoint_custom_tags(
        "docs-vs",
        custom_tags=[CustomTag(key="team", value="search"), CustomTag(key="x", value="1")],
    )
    assert fields(drift(live), "vector_search_endpoint.docs-vs") == {
        "tags.team": ("search", "support"),
        "tags.x": ("1", None),
    }


def test_vector_index_deleted_is_missing(live: LiveProject) -> None:
    live.sdk.vector_search_indexes.delete_index(INDEX)
    report = drift(live)
    (asset,) = [a for a in report.drifted if a.kind == "vector_index"]
    assert asset.status is Status.MISSING and asset.address == f"vector_index.{INDEX}"


def test_quota_changed(live: LiveProject) -> None:
    live.sdk.serving_endpoints.put_ai_gateway(
        LLM,
        rate_limits=[
            AiGatewayRateLimit(
                calls=5000,
                key=AiGatewayRateLimitKey.ENDPOINT,
                renewal_period=AiGatewayRateLimitRenewalPeriod.MINUTE,
            ),  # type: ignore[arg-type]
        ],
    )
    got = fields(drift(live), f"quota.{LLM}")
    assert got["rate_limits.endpoint.calls_per_minute"] == (5000, 1000)
    assert got["rate_limits.user_group/support-agents"][0] is None


def add_ignore(live: LiveProject, rules: str) -> None:
    """The sandbox target of the example project, with these ignore rules."""
    path = live.root / "reconciler.yaml"
    text = (
        (REPO_ROOT / "reconciler.yaml")
        .read_text()
        .replace(
            "  sandbox:\n    type: sandbox\n",
            f"  sandbox:\n    type: sandbox\n    ignore:\n{rules}",
        )
    )
    assert "ignore:\n" + rules in text
    path.write_text(text)


def test_ignore_rules(live: LiveProject) -> None:
    live.sdk.serving_endpoints.patch(
        ENDPOINT,
        add_tags=[
            EndpointTag(key="team", value="ops"),
            EndpointTag(key="cost_center", value="cc-1"),
        ],
    )
    live.sdk.registered_models.set_alias(MODEL, "champion", 3)
    add_ignore(
        live,
        "      - {asset: 'serving_endpoint.support-*', fields: [tags.team]}\n"
        "      - {asset: 'model_alias.*@champion', fields: [version]}\n",
    )
    report = drift(live)
    assert [a.address for a in report.drifted] == [f"serving_endpoint.{ENDPOINT}"]
    assert fields(report, f"serving_endpoint.{ENDPOINT}") == {
        "tags.cost_center": ("cc-1", "cc-4711")
    }
    add_ignore(
        live,
        "      - {asset: 'serving_endpoint.*', fields: [tags]}\n"
        "      - {asset: '*', fields: [version]}\n",
    )
    assert drift(live).in_sync


def test_cli_exit_2_and_formats(live: LiveProject) -> None:
    live.sdk.registered_models.set_alias(MODEL, "champion", 3)
    live.stop()
    text = live.cli("drift")
    assert text.exit_code == 2, text.output
    assert f"~ model_alias.{MODEL}@champion differs from the manifest" in text.output
    assert "version  live: 3  manifest: 2" in text.output

    data = json.loads(live.cli("drift", "--format", "json").output)
    assert data["in_sync"] is False and data["target"] == "sandbox"
    assert data["drifted"][0]["fields"] == [{"path": "version", "live": 3, "manifest": 2}]

    md = live.cli("drift", "-t", "sandbox", "--format", "markdown")
    assert md.exit_code == 2
    assert f"| `model_alias.{MODEL}@champion` | differs | `version` | `3` | `2` |" in md.output


def test_cli_error_is_exit_1(live: LiveProject) -> None:
    live.stop()
    (live.root / "manifests" / "models.yaml").write_text("registered_models: {}\n")
    result = live.cli("drift")
    assert result.exit_code == 1
    assert "error: manifests/models.yaml" in result.output or "models.yaml" in result.output
    assert "Traceback" not in result.output
    unknown = live.cli("drift", "-t", "nope")
    assert unknown.exit_code == 1 and "unknown target 'nope'" in unknown.output
