"""The document apply writes holds the live value wherever the plan shows no change: ignored
fields and the entity fields a manifest leaves unset; the plan names what a write carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.model.changes import Action, Change, Plan
from reconciler.model.errors import PlanError
from reconciler.model.resources import KindName

from .helpers import (
    MODEL,
    alias_asset,
    endpoint_manifest,
    endpoint_raw,
    live_asset,
    model_manifest,
    plan_of,
    ready,
)

SE = KindName.SERVING_ENDPOINT
ARN = "arn:aws:iam::123:instance-profile/serving"


def two_entities(**fields: Any) -> dict[str, Any]:
    manifest = endpoint_manifest(**{"traffic": {"champion": 80, "challenger": 20}, **fields})
    manifest["served_entities"].append(
        {"name": "challenger", "entity": MODEL, "version": 3, "workload_size": "Small"}
    )
    return manifest


def two_entities_raw(champion: int = 80) -> dict[str, Any]:
    raw = endpoint_raw()
    config = raw["config"]
    config["served_entities"].append(
        {
            "name": "challenger",
            "entity_name": MODEL,
            "entity_version": "3",
            "workload_size": "Small",
            "scale_to_zero_enabled": False,
        }
    )
    config["traffic_config"]["routes"] = [
        {"served_entity_name": "champion", "traffic_percentage": champion},
        {"served_entity_name": "challenger", "traffic_percentage": 100 - champion},
    ]
    return raw


def plan(
    tmp_path: Path,
    manifest: dict[str, Any],
    raw: dict[str, Any],
    *,
    champion: int = 2,
    ignore: list[str] | None = None,
) -> Plan:
    manifests = {
        "registered_models": [model_manifest(champion=champion)],
        "serving_endpoints": [manifest],
    }
    target = {"ignore": [{"asset": "serving_endpoint.*", "fields": ignore}]} if ignore else None
    return plan_of(
        tmp_path,
        manifests,
        live_asset(KindName.REGISTERED_MODEL, MODEL, {"full_name": MODEL}),
        alias_asset("champion", 2),
        live_asset(SE, "ep", raw),
        versions=ready(MODEL, 1, 2, 3),
        target=target,
    )


def endpoint_change(result: Plan) -> Change:
    (change,) = [c for c in result.changes if c.kind == SE]
    return change


def test_ignored_tag_and_traffic_are_live_in_the_document_apply_writes(tmp_path: Path) -> None:
    raw = two_entities_raw(champion=50)
    raw["tags"] = [{"key": "team", "value": "ml"}, {"key": "cost_center", "value": "finops"}]
    manifest = two_entities(tags={"team": "ml", "cost_center": "cc-1"})
    change = endpoint_change(
        plan(tmp_path, manifest, raw, champion=3, ignore=["tags.cost_center", "traffic"])
    )
    assert [d.path for d in change.diffs] == ["served_entities.champion.version"]
    assert change.desired is not None
    assert change.desired["tags"] == {"cost_center": "finops", "team": "ml"}
    assert change.desired["traffic"] == {"champion": 50, "challenger": 50}
    assert change.desired["served_entities"][0]["version"] == 3


def test_ignored_traffic_routing_to_a_removed_entity_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="sends 20% to served entity 'challenger'") as error:
        plan(tmp_path, endpoint_manifest(), two_entities_raw(), ignore=["traffic"])
    assert "serving_endpoint.ep" in str(error.value) and "ignores traffic" in str(error.value)


def test_partly_ignored_traffic_that_would_not_sum_to_100_is_refused(tmp_path: Path) -> None:
    manifest = two_entities(traffic={"champion": 90, "challenger": 10})
    with pytest.raises(PlanError, match="sum to 110%"):
        plan(tmp_path, manifest, two_entities_raw(champion=80), ignore=["traffic.challenger"])


def test_entity_fields_the_manifest_leaves_unset_are_not_changes(tmp_path: Path) -> None:
    raw = endpoint_raw()
    raw["config"]["served_entities"][0].update(
        {
            "workload_type": "GPU_SMALL",
            "environment_vars": {"LOG_LEVEL": "debug"},
            "instance_profile_arn": ARN,
        }
    )
    manifest = endpoint_manifest()
    del manifest["served_entities"][0]["scale_to_zero"]
    assert plan(tmp_path, manifest, raw).empty


def test_an_entity_field_the_manifest_sets_to_its_default_is_compared(tmp_path: Path) -> None:
    manifest = endpoint_manifest()
    manifest["served_entities"][0]["scale_to_zero"] = False
    manifest["served_entities"][0]["environment_vars"] = {}
    raw = endpoint_raw()
    raw["config"]["served_entities"][0]["environment_vars"] = {"A": "1"}
    change = endpoint_change(plan(tmp_path, manifest, raw))
    assert [(d.path, d.after) for d in change.diffs] == [
        ("served_entities.champion.scale_to_zero", False),
        ("served_entities.champion.environment_vars", {}),
    ]


def test_a_config_change_lists_the_live_fields_it_carries(tmp_path: Path) -> None:
    raw = endpoint_raw()
    raw["config"]["served_entities"][0].update(
        {
            "workload_type": "GPU_SMALL",
            "environment_vars": {"TOKEN": "{{secrets/s/k}}"},
            "instance_profile_arn": ARN,
            "min_provisioned_concurrency": 4,
        }
    )
    change = endpoint_change(plan(tmp_path, endpoint_manifest(), raw, champion=3))
    assert [d.path for d in change.diffs] == ["served_entities.champion.version"]
    assert change.carried == (
        "served_entities.champion.environment_vars",
        "served_entities.champion.instance_profile_arn",
        "served_entities.champion.workload_type",
    ), "the concurrency derived from the manifest's workload size is not carried"


def test_a_tags_only_change_carries_nothing(tmp_path: Path) -> None:
    raw = endpoint_raw()
    raw["config"]["served_entities"][0]["instance_profile_arn"] = ARN
    change = endpoint_change(plan(tmp_path, endpoint_manifest(tags={"team": "ops"}), raw))
    assert change.action is Action.UPDATE
    assert [d.path for d in change.diffs] == ["tags.team"]
    assert change.carried == ()


def test_a_gateway_change_lists_the_live_settings_it_keeps(tmp_path: Path) -> None:
    raw = endpoint_raw(
        ai_gateway={
            "usage_tracking_config": {"enabled": True},
            "guardrails": {"input": {"safety": False, "pii": {"behavior": "BLOCK"}}},
        }
    )
    manifest = endpoint_manifest(ai_gateway={"guardrails": {"input": {"safety": True}}})
    change = endpoint_change(plan(tmp_path, manifest, raw))
    assert [d.path for d in change.diffs] == ["ai_gateway.guardrails.input.safety"]
    assert change.carried == ("ai_gateway.guardrails.input.pii", "ai_gateway.usage_tracking")


def test_a_replace_lists_what_it_carries_to_the_new_endpoint(tmp_path: Path) -> None:
    raw = endpoint_raw(
        description="intent routing",
        email_notifications={"on_update_failure": ["ops@example.com"]},
        ai_gateway={"usage_tracking_config": {"enabled": True}},
    )
    raw["config"]["served_entities"][0]["instance_profile_arn"] = ARN
    manifest = endpoint_manifest(route_optimized=True)
    del manifest["tags"]
    change = endpoint_change(plan(tmp_path, manifest, raw))
    assert change.action is Action.REPLACE
    assert change.carried == (
        "ai_gateway.usage_tracking",
        "description",
        "email_notifications",
        "served_entities.champion.instance_profile_arn",
        "tags",
    )
