"""Registered models, aliases, Vector Search and quotas: server-filled values are not drift."""

from __future__ import annotations

import json
from pathlib import Path

from plan.helpers import (
    MODEL,
    alias_asset,
    endpoint_raw,
    live_asset,
    model_manifest,
    model_raw,
    plan_of,
    ready,
)

from reconciler.adapters.databricks.kinds import normalize
from reconciler.model.changes import Action
from reconciler.model.resources import KindName

VSE, IDX, Q = KindName.VECTOR_SEARCH_ENDPOINT, KindName.VECTOR_INDEX, KindName.QUOTA
RM = KindName.REGISTERED_MODEL


def test_alias_version_as_string_is_not_drift(tmp_path: Path) -> None:
    plan = plan_of(
        tmp_path,
        {"registered_models": [model_manifest(champion=2)]},
        live_asset(RM, MODEL, model_raw({"champion": "2"})),
        alias_asset("champion", "2"),
        versions=ready(MODEL, 2),
    )
    assert plan.empty


def test_model_owner_filled_by_server_is_not_drift(tmp_path: Path) -> None:
    manifest = {"name": MODEL, "comment": "c", "tags": {"team": "ml"}}
    raw = model_raw(
        {},
        comment="c",
        tags=[{"key": "team", "value": "ml"}, {"key": "reconciler.project", "value": "proj"}],
    )
    plan = plan_of(tmp_path, {"registered_models": [manifest]}, live_asset(RM, MODEL, raw))
    assert plan.empty


def test_model_tag_removed_outside_manifest_is_drift(tmp_path: Path) -> None:
    manifest = {"name": MODEL, "tags": {"team": "ml"}}
    raw = model_raw({}, tags=[{"key": "team", "value": "ml"}, {"key": "extra", "value": "x"}])
    plan = plan_of(tmp_path, {"registered_models": [manifest]}, live_asset(RM, MODEL, raw))
    (change,) = plan.changes
    assert [(d.path, d.before, d.after) for d in change.diffs] == [("tags.extra", "x", None)]


def vs_raw(**extra: object) -> dict:
    raw = {
        "name": "vs",
        "id": "e1",
        "endpoint_type": "STANDARD",
        "endpoint_status": {"state": "ONLINE"},
        "num_indexes": 1,
        "custom_tags": [{"key": "team", "value": "ml"}],
    }
    raw.update(extra)
    return raw


def test_effective_budget_policy_is_not_drift(tmp_path: Path) -> None:
    """An inherited effective policy is not the policy set on the endpoint."""
    raw = vs_raw(effective_budget_policy_id="bp-inherited")
    manifest = {"name": "vs", "type": "STANDARD", "tags": {"team": "ml"}}
    plan = plan_of(tmp_path, {"vector_search_endpoints": [manifest]}, live_asset(VSE, "vs", raw))
    assert plan.empty
    assert "budget_policy_id" not in normalize(VSE, raw)


def test_set_budget_policy_compares_against_set_not_effective(tmp_path: Path) -> None:
    raw = vs_raw(budget_policy_id="bp-1", effective_budget_policy_id="bp-parent")
    manifest = {"name": "vs", "budget_policy_id": "bp-1"}
    plan = plan_of(tmp_path, {"vector_search_endpoints": [manifest]}, live_asset(VSE, "vs", raw))
    assert plan.empty


def test_vs_endpoint_type_change_is_a_replace(tmp_path: Path) -> None:
    manifest = {"name": "vs", "type": "STORAGE_OPTIMIZED"}
    plan = plan_of(
        tmp_path, {"vector_search_endpoints": [manifest]}, live_asset(VSE, "vs", vs_raw())
    )
    (change,) = plan.changes
    assert change.action is Action.REPLACE
    assert change.reason is not None and "index" in change.reason


def index_raw(**extra: object) -> dict:
    raw = {
        "name": "main.sch.idx",
        "endpoint_name": "vs",
        "primary_key": "id",
        "index_type": "DIRECT_ACCESS",
        "index_subtype": "HYBRID",
        "creator": "someone@example.com",
        "direct_access_index_spec": {
            "schema_json": json.dumps({"id": "bigint", "text": "string", "vec": "array<float>"}),
            "embedding_vector_columns": [{"name": "vec", "embedding_dimension": 1024}],
        },
        "status": {"ready": True, "indexed_row_count": 0},
    }
    raw.update(extra)
    return raw


INDEX_MANIFEST = {
    "name": "main.sch.idx",
    "endpoint": "vs",
    "primary_key": "id",
    "direct_access": {
        "schema": {"vec": "array<float>", "text": "string", "id": "long"},
        "embedding_vector_columns": [{"name": "vec", "dimension": 1024}],
    },
}


def _index_plan(tmp_path: Path, manifest: dict, raw: dict):  # type: ignore[no-untyped-def]
    return plan_of(
        tmp_path,
        {"vector_search_endpoints": [{"name": "vs"}], "vector_indexes": [manifest]},
        live_asset(VSE, "vs", vs_raw()),
        live_asset(IDX, "main.sch.idx", raw),
    )


def test_schema_json_type_folding_and_key_order_are_not_drift(tmp_path: Path) -> None:
    """long -> bigint and re-sorted keys, as the server rewrites schema_json."""
    assert _index_plan(tmp_path, INDEX_MANIFEST, index_raw()).empty


def test_index_subtype_default_is_not_drift(tmp_path: Path) -> None:
    assert _index_plan(tmp_path, INDEX_MANIFEST, index_raw()).empty
    raw = index_raw()
    del raw["index_subtype"]
    assert _index_plan(tmp_path / "b", dict(INDEX_MANIFEST, subtype="HYBRID"), raw).empty


def test_index_spec_change_is_a_replace_that_says_what_is_lost(tmp_path: Path) -> None:
    manifest = dict(INDEX_MANIFEST, primary_key="text")
    plan = _index_plan(tmp_path, manifest, index_raw())
    (change,) = plan.changes
    assert change.action is Action.REPLACE
    assert [d.path for d in change.diffs] == ["primary_key"]
    assert change.reason is not None and "rebuilt" in change.reason and "re-sync" in change.reason


def test_delta_sync_api_field_names_are_not_drift(tmp_path: Path) -> None:
    manifest = {
        "name": "main.sch.idx",
        "endpoint": "vs",
        "primary_key": "id",
        "delta_sync": {
            "source_table": "main.sch.docs",
            "embedding_source_columns": [{"name": "text", "model_endpoint": "bge"}],
            "columns_to_sync": ["id", "text"],
        },
    }
    raw = index_raw(
        index_type="DELTA_SYNC",
        direct_access_index_spec=None,
        delta_sync_index_spec={
            "source_table": "main.sch.docs",
            "pipeline_type": "TRIGGERED",
            "pipeline_id": "p-1",
            "embedding_source_columns": [{"name": "text", "embedding_model_endpoint_name": "bge"}],
            "columns_to_sync": ["id", "text"],
        },
    )
    assert _index_plan(tmp_path, manifest, raw).empty


def test_rate_limit_default_key_endpoint_is_not_drift(tmp_path: Path) -> None:
    raw = endpoint_raw(
        name="fm",
        ai_gateway={
            "rate_limits": [
                {"calls": 1000, "renewal_period": "minute"},
                {
                    "tokens": 20000,
                    "key": "user_group",
                    "principal": "agents",
                    "renewal_period": "minute",
                },
            ]
        },
    )
    manifest = {
        "endpoint": "fm",
        "rate_limits": [
            {"key": "user_group", "principal": "agents", "tokens_per_minute": 20000},
            {"calls_per_minute": 1000},
        ],
    }
    plan = plan_of(tmp_path, {"quotas": [manifest]}, live_asset(Q, "fm", raw))
    assert plan.empty


def test_rate_limit_change_names_the_limit_and_field(tmp_path: Path) -> None:
    raw = endpoint_raw(
        name="fm",
        ai_gateway={"rate_limits": [{"calls": 10, "key": "user", "renewal_period": "minute"}]},
    )
    manifest = {"endpoint": "fm", "rate_limits": [{"key": "user", "calls_per_minute": 20}]}
    plan = plan_of(tmp_path, {"quotas": [manifest]}, live_asset(Q, "fm", raw))
    (change,) = plan.changes
    assert change.action is Action.UPDATE
    assert [(d.path, d.before, d.after) for d in change.diffs] == [
        ("rate_limits.user.calls_per_minute", 10, 20)
    ]
