"""Serving endpoints: what the server fills in never reads as a change.

Each test is named after the false drift it prevents.
"""

from __future__ import annotations

import copy
from pathlib import Path

from plan.helpers import (
    MODEL,
    alias_asset,
    endpoint_manifest,
    endpoint_raw,
    live_asset,
    model_manifest,
    plan_of,
    ready,
)

from reconciler.adapters.databricks.kinds import normalize
from reconciler.model.changes import Action
from reconciler.model.resources import KindName
from reconciler.model.secrets import mask_reference

SE = KindName.SERVING_ENDPOINT


def _plan(tmp_path: Path, manifest: dict, raw: dict, **aliases: int):  # type: ignore[no-untyped-def]
    manifests = {"registered_models": [model_manifest(**(aliases or {"champion": 2}))]}
    manifests["serving_endpoints"] = [manifest]
    assets = [alias_asset(a, v) for a, v in (aliases or {"champion": 2}).items()]
    return plan_of(
        tmp_path,
        manifests,
        live_asset(KindName.REGISTERED_MODEL, MODEL, {"full_name": MODEL}),
        *assets,
        live_asset(SE, "ep", raw),
        versions=ready(MODEL, 1, 2, 3),
    )


def test_matching_endpoint_plans_nothing(tmp_path: Path) -> None:
    assert _plan(tmp_path, endpoint_manifest(), endpoint_raw()).empty


def test_single_entity_default_route_is_not_drift(tmp_path: Path) -> None:
    """No traffic in the manifest; the server echoes a 100% route on the one entity."""
    plan = _plan(tmp_path, endpoint_manifest(), endpoint_raw())
    assert plan.empty


def test_single_entity_without_routes_is_not_drift(tmp_path: Path) -> None:
    raw = endpoint_raw()
    del raw["config"]["traffic_config"]
    assert _plan(tmp_path, endpoint_manifest(), raw).empty


def test_route_with_both_entity_and_model_name_is_not_drift(tmp_path: Path) -> None:
    raw = endpoint_raw()
    raw["config"]["traffic_config"]["routes"] = [
        {"served_model_name": "champion", "traffic_percentage": 100}
    ]
    assert _plan(tmp_path, endpoint_manifest(traffic={"champion": 100}), raw).empty


def test_default_workload_type_cpu_is_not_drift(tmp_path: Path) -> None:
    """The manifest leaves workload_type out; GET says CPU (and the other way round)."""
    assert _plan(tmp_path, endpoint_manifest(), endpoint_raw()).empty
    manifest = endpoint_manifest()
    manifest["served_entities"][0]["workload_type"] = "CPU"
    raw = endpoint_raw()
    del raw["config"]["served_entities"][0]["workload_type"]
    assert _plan(tmp_path / "b", manifest, raw).empty


def test_scale_to_zero_false_and_unset_are_not_drift(tmp_path: Path) -> None:
    manifest = endpoint_manifest()
    del manifest["served_entities"][0]["scale_to_zero"]
    raw = endpoint_raw()
    raw["config"]["served_entities"][0]["scale_to_zero_enabled"] = False
    assert _plan(tmp_path, manifest, raw).empty


def test_entity_version_as_string_is_not_drift(tmp_path: Path) -> None:
    """GET gives entity_version "2"; the alias resolves to int 2."""
    raw = endpoint_raw()
    assert raw["config"]["served_entities"][0]["entity_version"] == "2"
    assert _plan(tmp_path, endpoint_manifest(), raw).empty


def test_default_served_entity_name_is_not_drift(tmp_path: Path) -> None:
    """A legacy served_models item without a name gets the server's default <model>-<version>."""
    raw = endpoint_raw()
    raw["config"] = {
        "served_models": [
            {
                "model_name": MODEL,
                "model_version": "2",
                "workload_size": "Small",
                "scale_to_zero_enabled": True,
            }
        ],
        "traffic_config": {"routes": [{"served_model_name": "clf-2", "traffic_percentage": 100}]},
    }
    manifest = endpoint_manifest()
    manifest["served_entities"][0]["name"] = "clf-2"
    assert _plan(tmp_path, manifest, raw).empty


def test_concurrency_derived_from_workload_size_is_not_drift(tmp_path: Path) -> None:
    raw = endpoint_raw()
    raw["config"]["served_entities"][0].update(
        {"min_provisioned_concurrency": 4, "max_provisioned_concurrency": 4}
    )
    assert _plan(tmp_path, endpoint_manifest(), raw).empty


def test_tag_order_is_not_drift(tmp_path: Path) -> None:
    raw = endpoint_raw(tags=[{"key": "z", "value": "1"}, {"key": "team", "value": "ml"}])
    manifest = endpoint_manifest(tags={"team": "ml", "z": "1"})
    assert _plan(tmp_path, manifest, raw).empty


def test_own_ownership_tags_are_not_drift(tmp_path: Path) -> None:
    raw = endpoint_raw(
        tags=[
            {"key": "team", "value": "ml"},
            {"key": "reconciler.project", "value": "proj"},
            {"key": "reconciler.commit", "value": "abc"},
        ]
    )
    assert _plan(tmp_path, endpoint_manifest(), raw).empty


def test_rate_limits_in_gateway_are_not_endpoint_drift(tmp_path: Path) -> None:
    """Rate limits belong to the quota kind; the endpoint's ai_gateway ignores them."""
    raw = endpoint_raw(
        ai_gateway={
            "usage_tracking_config": {"enabled": True},
            "rate_limits": [{"calls": 10, "key": "user", "renewal_period": "minute"}],
        }
    )
    manifest = endpoint_manifest(ai_gateway={"usage_tracking": True})
    assert _plan(tmp_path, manifest, raw).empty


def test_gateway_false_and_absent_are_not_drift(tmp_path: Path) -> None:
    manifest = endpoint_manifest(ai_gateway={"usage_tracking": False, "fallbacks": False})
    assert _plan(tmp_path, manifest, endpoint_raw()).empty


def test_pending_config_is_compared_not_the_old_one(tmp_path: Path) -> None:
    """While an update is in progress GET holds the old config and the pending one."""
    raw = endpoint_raw()
    pending = copy.deepcopy(raw["config"])
    raw["config"]["served_entities"][0]["entity_version"] = "1"
    raw["pending_config"] = pending
    assert _plan(tmp_path, endpoint_manifest(), raw).empty


def test_served_version_change_is_an_update_of_that_field(tmp_path: Path) -> None:
    plan = _plan(tmp_path, endpoint_manifest(), endpoint_raw(), champion=3)
    (change,) = [c for c in plan.changes if c.kind == "serving_endpoint"]
    assert change.action is Action.UPDATE
    assert [(d.path, d.before, d.after) for d in change.diffs] == [
        ("served_entities.champion.version", 2, 3)
    ]
    assert change.desired is not None
    assert change.desired["served_entities"][0]["version"] == 3


def test_entity_left_out_of_manifest_is_removed(tmp_path: Path) -> None:
    """PUT .../config replaces the whole list: a live entity not in the manifest goes away."""
    raw = endpoint_raw()
    extra = dict(raw["config"]["served_entities"][0], name="old", entity_version="1")
    raw["config"]["served_entities"].append(extra)
    raw["config"]["traffic_config"]["routes"] = [
        {"served_entity_name": "champion", "traffic_percentage": 100},
        {"served_entity_name": "old", "traffic_percentage": 0},
    ]
    plan = _plan(tmp_path, endpoint_manifest(), raw)
    (change,) = plan.changes
    assert [(d.path, d.after) for d in change.diffs] == [("served_entities.old", None)]
    assert change.diffs[0].before["version"] == 1


def test_description_change_is_a_replace_with_reason(tmp_path: Path) -> None:
    plan = _plan(tmp_path, endpoint_manifest(description="new"), endpoint_raw(description="old"))
    (change,) = plan.changes
    assert change.action is Action.REPLACE
    assert change.reason is not None and "description" in change.reason
    assert "deleted and recreated" in change.reason


def test_secret_environment_values_are_masked_in_diffs(tmp_path: Path) -> None:
    manifest = endpoint_manifest()
    manifest["served_entities"][0]["environment_vars"] = {"KEY": "{{secrets/scope/key}}"}
    plan = _plan(tmp_path, manifest, endpoint_raw())
    (change,) = plan.changes
    (diff,) = change.diffs
    assert diff.path == "served_entities.champion.environment_vars"
    assert diff.after == {"KEY": mask_reference("{{secrets/scope/key}}")}
    assert change.desired is not None
    env = change.desired["served_entities"][0]["environment_vars"]
    assert env == {"KEY": "{{secrets/scope/key}}"}


def test_permissions_compare_direct_entries_only() -> None:
    raw = endpoint_raw(
        permissions=[
            {
                "group_name": "admins",
                "all_permissions": [{"permission_level": "CAN_MANAGE", "inherited": True}],
            },
            {
                "user_name": "a@x.com",
                "all_permissions": [{"permission_level": "CAN_QUERY", "inherited": False}],
            },
        ]
    )
    doc = normalize(SE, raw)
    assert doc["permissions"] == [{"user": "a@x.com", "level": "CAN_QUERY"}]


def test_notification_order_and_empty_lists_are_not_drift(tmp_path: Path) -> None:
    raw = endpoint_raw(
        email_notifications={"on_update_failure": ["b@x.io", "a@x.io"], "on_update_success": []}
    )
    manifest = endpoint_manifest(email_notifications={"on_update_failure": ["a@x.io", "b@x.io"]})
    assert _plan(tmp_path, manifest, raw).empty
    changed = endpoint_manifest(email_notifications={"on_update_success": ["a@x.io"]})
    plan = _plan(tmp_path / "b", changed, raw)
    (change,) = plan.changes
    assert change.action is Action.UPDATE
    assert [(d.path, d.before, d.after) for d in change.diffs] == [
        ("email_notifications.on_update_failure", ["a@x.io", "b@x.io"], None),
        ("email_notifications.on_update_success", None, ["a@x.io"]),
    ]


def test_notifications_left_out_of_the_manifest_are_not_managed(tmp_path: Path) -> None:
    raw = endpoint_raw(email_notifications={"on_update_failure": ["a@x.io"]})
    assert _plan(tmp_path, endpoint_manifest(), raw).empty


def test_a_new_description_replaces_the_endpoint_saying_why(tmp_path: Path) -> None:
    raw = endpoint_raw(description="old words")
    plan = _plan(tmp_path, endpoint_manifest(description="new words"), raw)
    (change,) = plan.changes
    assert change.action is Action.REPLACE
    assert change.reason is not None and change.reason.startswith("description cannot change")
    assert _plan(tmp_path / "b", endpoint_manifest(), raw).empty, "unset: not managed"


OPENAI = {
    "name": "gpt-4o",
    "provider": "openai",
    "task": "llm/v1/chat",
    "openai_config": {"openai_api_key": "{{secrets/llm/openai}}"},
}


def test_external_model_as_returned_is_not_drift(tmp_path: Path) -> None:
    """GET returns the reference as written, never the plaintext twin, and no sizing."""
    raw = endpoint_raw()
    raw["config"]["served_entities"] = [
        {
            "name": "gpt",
            "external_model": {**OPENAI, "openai_config": {**OPENAI["openai_config"]}},
            "state": {"deployment": "DEPLOYMENT_READY"},
        }
    ]
    raw["config"]["traffic_config"]["routes"][0]["served_entity_name"] = "gpt"
    manifest = endpoint_manifest(served_entities=[{"name": "gpt", "external_model": OPENAI}])
    assert _plan(tmp_path, manifest, raw).empty
    other = {**OPENAI, "openai_config": {"openai_api_key": "{{secrets/llm/openai-v2}}"}}
    changed = endpoint_manifest(served_entities=[{"name": "gpt", "external_model": other}])
    (change,) = _plan(tmp_path / "b", changed, raw).changes
    assert change.action is Action.UPDATE
    (diff,) = change.diffs
    assert diff.path == "served_entities.gpt.external_model"
    assert "secrets/" not in repr(diff), "diffs are masked"


def test_switching_between_external_and_other_models_is_a_replace(tmp_path: Path) -> None:
    manifest = endpoint_manifest(served_entities=[{"name": "gpt", "external_model": OPENAI}])
    (change,) = _plan(tmp_path, manifest, endpoint_raw()).changes
    assert change.action is Action.REPLACE
    assert change.reason is not None and change.reason.startswith("serves cannot change")
    assert ("serves", "models", "external models") in [
        (d.path, d.before, d.after) for d in change.diffs
    ]
