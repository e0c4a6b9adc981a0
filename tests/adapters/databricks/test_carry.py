"""What a write sends back from live: the fields of each served entity the manifest does not
set (by entity name, never two sizing forms at once), and the AI Gateway settings it leaves
unset; and which live fields no manifest can express."""

from __future__ import annotations

from typing import Any

from plan.helpers import MODEL, endpoint_raw

from reconciler.adapters.databricks.ai_gateway import merged_gateway, unmodelled_gateway_fields
from reconciler.adapters.databricks.serving_config import MODELLED, core_config, served_entity
from reconciler.adapters.databricks.serving_endpoint import unmodelled_endpoint_fields
from reconciler.adapters.databricks.writing import tag_changes

ARN = "arn:aws:iam::123:instance-profile/serving"


def entity(**fields: Any) -> dict[str, Any]:
    return {"name": "champion", "entity": MODEL, "version": 3, **fields}


def live_entity(**fields: Any) -> dict[str, Any]:
    return {
        "name": "champion",
        "entity_name": MODEL,
        "entity_version": "2",
        "scale_to_zero_enabled": True,
        "state": {"deployment": "DEPLOYMENT_READY"},
        "creator": "someone@example.com",
        "creation_timestamp": 1700000000,
        **fields,
    }


def test_unset_fields_come_from_the_live_entity_and_output_fields_do_not() -> None:
    live = live_entity(
        instance_profile_arn=ARN,
        workload_type="GPU_SMALL",
        environment_vars={"A": "1"},
        max_provisioned_throughput=100,
    )
    sent = served_entity(entity(workload_size="Small"), live)
    assert sent == {
        "name": "champion",
        "entity_name": MODEL,
        "entity_version": "3",
        "workload_size": "Small",
        "scale_to_zero_enabled": True,
        "instance_profile_arn": ARN,
        "workload_type": "GPU_SMALL",
        "environment_vars": {"A": "1"},
    }
    # Provisioned throughput is a sizing form of its own: the manifest's workload size wins.
    assert "max_provisioned_throughput" not in sent


def test_scale_to_zero_is_false_only_when_neither_manifest_nor_live_says() -> None:
    assert served_entity(entity(), None)["scale_to_zero_enabled"] is False
    assert (
        served_entity(entity(scale_to_zero=False), live_entity())["scale_to_zero_enabled"] is False
    )


def test_the_manifests_sizing_form_drops_the_other_live_form() -> None:
    live = live_entity(workload_size="Small")
    sent = served_entity(entity(min_provisioned_concurrency=0, max_provisioned_concurrency=8), live)
    assert "workload_size" not in sent
    live = live_entity(min_provisioned_concurrency=0, max_provisioned_concurrency=8)
    sent = served_entity(entity(workload_size="Medium"), live)
    assert "min_provisioned_concurrency" not in sent and "max_provisioned_concurrency" not in sent


def test_live_workload_size_wins_over_the_concurrency_derived_from_it() -> None:
    live = live_entity(
        workload_size="Small", min_provisioned_concurrency=4, max_provisioned_concurrency=4
    )
    sent = served_entity(entity(), live)
    assert sent["workload_size"] == "Small"
    assert "min_provisioned_concurrency" not in sent and "max_provisioned_concurrency" not in sent


def test_a_unity_catalog_entity_never_carries_an_external_model() -> None:
    live = live_entity(external_model={"provider": "openai", "name": "gpt", "task": "llm/v1/chat"})
    assert "external_model" not in served_entity(entity(), live)


def test_the_config_matches_live_entities_by_name() -> None:
    raw = endpoint_raw()
    raw["config"]["served_entities"][0]["instance_profile_arn"] = ARN
    doc = {
        "served_entities": [entity(), {**entity(), "name": "new"}],
        "traffic": {"champion": 100},
    }
    body = core_config(doc, raw)
    by_name = {e["name"]: e for e in body["served_entities"]}
    assert by_name["champion"]["instance_profile_arn"] == ARN
    assert by_name["champion"]["workload_size"] == "Small"
    assert "instance_profile_arn" not in by_name["new"]
    assert body["traffic_config"]["routes"] == [
        {"served_entity_name": "champion", "traffic_percentage": 100},
        {"served_entity_name": "new", "traffic_percentage": 0},
    ]


def test_a_config_update_in_progress_carries_from_the_config_being_moved_to() -> None:
    raw = endpoint_raw(state={"ready": "READY", "config_update": "IN_PROGRESS"})
    raw["pending_config"] = {
        "served_entities": [live_entity(instance_profile_arn=ARN, workload_size="Large")]
    }
    (sent,) = core_config({"served_entities": [entity()]}, raw)["served_entities"]
    assert sent["instance_profile_arn"] == ARN and sent["workload_size"] == "Large"


def test_the_gateway_write_keeps_every_setting_the_manifest_leaves_unset() -> None:
    live = {
        "usage_tracking_config": {"enabled": True},
        "guardrails": {
            "input": {"safety": False, "pii": {"behavior": "BLOCK"}},
            "output": {"safety": True},
        },
        "inference_table_config": {"enabled": True, "catalog_name": "c", "schema_name": "s"},
        "rate_limits": [{"key": "user", "calls": 5, "renewal_period": "minute"}],
    }
    body = merged_gateway(live, {"guardrails": {"input": {"safety": True}}, "fallbacks": True})
    assert body == {
        **live,
        "guardrails": {
            "input": {"safety": True, "pii": {"behavior": "BLOCK"}},
            "output": {"safety": True},
        },
        "fallback_config": {"enabled": True},
    }


def test_unmodelled_fields_are_named_by_entity_and_setting() -> None:
    raw = endpoint_raw(
        email_notifications={"on_update_failure": ["ops@example.com"]},
        telemetry_config={"telemetry_profile_id": "p-1"},
        ai_gateway={"usage_tracking_config": {"enabled": True}, "new_config": {"on": True}},
    )
    raw["config"]["served_entities"][0].update(
        {"instance_profile_arn": ARN, "provisioned_model_units": 50, "environment_vars": {"A": "1"}}
    )
    found = unmodelled_endpoint_fields(raw)
    assert "telemetry_config" in found
    assert "email_notifications" not in found, "manifests express it"
    # As fields get modelled they leave this list (and are carried as unset fields instead).
    entity_fields = {"instance_profile_arn", "provisioned_model_units"} - MODELLED
    assert {p for p in found if p.startswith("served_entities.")} == {
        f"served_entities.champion.{k}" for k in entity_fields
    }
    assert "served_entities.champion.environment_vars" not in found, "manifests express it"
    assert "ai_gateway.new_config" in found
    assert unmodelled_gateway_fields(raw["ai_gateway"]) == ["ai_gateway.new_config"]


def test_tag_writes_touch_only_the_keys_named() -> None:
    live = {"team": "ml", "cost_center": "finops", "old": "x", "reconciler.project": "p"}
    desired = {"team": "ops", "cost_center": "cc-1"}
    add, remove = tag_changes(desired, live, {}, only={"team", "old"})
    assert (add, remove) == ({"team": "ops"}, ["old"])
    add, remove = tag_changes(desired, live, {})
    assert (add, remove) == ({"team": "ops", "cost_center": "cc-1"}, ["old"])
