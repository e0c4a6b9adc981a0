"""The planner: creates in dependency order, prune rules, protected, ignore, alias resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.kinds.registry import rules_for
from reconciler.model.changes import Action, FieldDiff
from reconciler.model.errors import PlanError
from reconciler.model.resources import KindName

from .helpers import (
    MODEL,
    alias_asset,
    endpoint_manifest,
    endpoint_raw,
    live_asset,
    model_manifest,
    model_raw,
    plan_of,
    ready,
)

RM, MA, SE = KindName.REGISTERED_MODEL, KindName.MODEL_ALIAS, KindName.SERVING_ENDPOINT
VSE, IDX, Q = KindName.VECTOR_SEARCH_ENDPOINT, KindName.VECTOR_INDEX, KindName.QUOTA

FULL = {
    "registered_models": [model_manifest(champion=2)],
    "serving_endpoints": [endpoint_manifest()],
    "vector_search_endpoints": [{"name": "vs"}],
    "vector_indexes": [
        {
            "name": "main.sch.idx",
            "endpoint": "vs",
            "primary_key": "id",
            "delta_sync": {
                "source_table": "main.sch.docs",
                "embedding_source_columns": [{"name": "text", "model_endpoint": "ep"}],
            },
        }
    ],
    "quotas": [{"endpoint": "ep", "rate_limits": [{"calls_per_minute": 5}]}],
}


def test_creates_come_in_dependency_order(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, FULL, live_asset(RM, MODEL, model_raw({})), versions=ready(MODEL, 2))
    order = [c.address for c in plan.changes]
    assert order == [
        f"model_alias.{MODEL}@champion",
        "serving_endpoint.ep",
        "quota.ep",
        "vector_search_endpoint.vs",
        "vector_index.main.sch.idx",
    ]
    index = plan.changes[-1]
    assert index.depends_on == ("serving_endpoint.ep", "vector_search_endpoint.vs")
    endpoint = plan.changes[1]
    assert endpoint.depends_on == (f"model_alias.{MODEL}@champion", f"registered_model.{MODEL}")
    assert plan.summary.create == 5


def test_missing_version_fails_at_the_manifest_line(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match=r"version 2 of model main\.sch\.clf does not exist") as err:
        plan_of(tmp_path, {"registered_models": [model_manifest(champion=2)]})
    assert err.value.location is not None
    assert err.value.location.file.endswith("main.yaml")
    assert err.value.location.line > 1


def test_version_not_ready_fails(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="PENDING_REGISTRATION, not READY"):
        plan_of(
            tmp_path,
            {"registered_models": [model_manifest(champion=2)]},
            versions={(MODEL, 2): "PENDING_REGISTRATION"},
        )


def test_served_alias_resolves_to_the_manifest_alias_not_the_live_one(tmp_path: Path) -> None:
    plan = plan_of(
        tmp_path,
        {
            "registered_models": [model_manifest(champion=3)],
            "serving_endpoints": [endpoint_manifest()],
        },
        live_asset(RM, MODEL, model_raw({"champion": 2})),
        alias_asset("champion", 2),
        live_asset(SE, "ep", endpoint_raw()),
        versions=ready(MODEL, 2, 3),
    )
    assert [(c.address, [(d.path, d.before, d.after) for d in c.diffs]) for c in plan.changes] == [
        (f"model_alias.{MODEL}@champion", [("version", 2, 3)]),
        ("serving_endpoint.ep", [("served_entities.champion.version", 2, 3)]),
    ]


def test_served_alias_not_declared_uses_the_live_alias(tmp_path: Path) -> None:
    plan = plan_of(
        tmp_path,
        {"serving_endpoints": [endpoint_manifest()]},
        alias_asset("champion", 2),
        live_asset(SE, "ep", endpoint_raw()),
        versions=ready(MODEL, 2),
    )
    assert plan.empty


def test_served_alias_that_exists_nowhere_fails_at_the_entity(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="does not resolve") as err:
        plan_of(tmp_path, {"serving_endpoints": [endpoint_manifest()]})
    assert err.value.location is not None and err.value.location.line > 1


def test_unchanged_assets_are_absent(tmp_path: Path) -> None:
    plan = plan_of(
        tmp_path,
        {"registered_models": [model_manifest(champion=2)]},
        live_asset(RM, MODEL, model_raw({"champion": 2})),
        alias_asset("champion", 2),
        versions=ready(MODEL, 2),
    )
    assert plan.empty and plan.summary.create == 0


def _owned_leftovers() -> list:  # type: ignore[type-arg]
    return [
        live_asset(VSE, "old-vs", {"name": "old-vs", "endpoint_type": "STANDARD"}, owner="proj"),
        live_asset(
            IDX,
            "main.sch.old_idx",
            {"name": "main.sch.old_idx", "endpoint_name": "old-vs", "primary_key": "id"},
            owner="proj",
        ),
        live_asset(RM, "main.sch.old_model", model_raw({}), owner="proj"),
        live_asset(VSE, "theirs", {"name": "theirs", "endpoint_type": "STANDARD"}, owner="other"),
        live_asset(VSE, "unmarked", {"name": "unmarked", "endpoint_type": "STANDARD"}, None),
    ]


def test_no_deletes_without_prune(tmp_path: Path) -> None:
    assert plan_of(tmp_path, {}, *_owned_leftovers()).empty


def test_prune_deletes_only_owned_assets_dependents_first(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, {}, *_owned_leftovers(), target={"prune": True})
    assert [(c.address, c.action) for c in plan.changes] == [
        ("registered_model.main.sch.old_model", Action.DELETE),
        ("vector_index.main.sch.old_idx", Action.DELETE),
        ("vector_search_endpoint.old-vs", Action.DELETE),
    ]
    model = plan.changes[0]
    assert model.reason is not None and "--allow-delete" in model.reason
    assert "ALL its versions" in model.reason


def test_protected_assets_are_never_deleted(tmp_path: Path) -> None:
    target = {"prune": True, "protected": ["registered_model.*", "vector_index.*"]}
    plan = plan_of(tmp_path, {}, *_owned_leftovers(), target=target)
    assert [c.address for c in plan.changes] == ["vector_search_endpoint.old-vs"]


def test_protected_asset_needing_replace_is_an_error(tmp_path: Path) -> None:
    raw = {"name": "vs", "endpoint_type": "STANDARD"}
    with pytest.raises(PlanError, match="is protected, but type cannot change in place"):
        plan_of(
            tmp_path,
            {"vector_search_endpoints": [{"name": "vs", "type": "STORAGE_OPTIMIZED"}]},
            live_asset(VSE, "vs", raw),
            target={"protected": ["vector_search_endpoint.*"]},
        )


def test_ignore_rules_drop_matching_field_diffs(tmp_path: Path) -> None:
    raw = endpoint_raw(tags=[{"key": "team", "value": "ml"}, {"key": "cost_center", "value": "x"}])
    manifests = {
        "registered_models": [model_manifest(champion=2)],
        "serving_endpoints": [endpoint_manifest()],
    }
    live = [
        live_asset(RM, MODEL, model_raw({"champion": 2})),
        alias_asset("champion", 2),
        live_asset(SE, "ep", raw),
    ]
    plan = plan_of(tmp_path, manifests, *live, versions=ready(MODEL, 2))
    assert [d.path for c in plan.changes for d in c.diffs] == ["tags.cost_center"]
    ignore = {"ignore": [{"asset": "serving_endpoint.*", "fields": ["tags.cost_center"]}]}
    plan = plan_of(tmp_path / "b", manifests, *live, versions=ready(MODEL, 2), target=ignore)
    assert plan.empty


def test_asset_owned_by_another_project_is_an_error(tmp_path: Path) -> None:
    raw = {"name": "vs", "endpoint_type": "STANDARD"}
    with pytest.raises(PlanError, match="owned by project 'other'"):
        plan_of(
            tmp_path,
            {"vector_search_endpoints": [{"name": "vs"}]},
            live_asset(VSE, "vs", raw, owner="other"),
        )


def test_external_endpoint_is_never_changed_but_must_exist(tmp_path: Path) -> None:
    manifests = {"vector_search_endpoints": [{"name": "vs", "external": True}]}
    raw = {"name": "vs", "endpoint_type": "STANDARD"}
    assert plan_of(tmp_path, manifests, live_asset(VSE, "vs", raw)).empty
    with pytest.raises(PlanError, match="declared external"):
        plan_of(tmp_path / "b", manifests)


def test_quota_on_an_endpoint_that_is_nowhere_fails(tmp_path: Path) -> None:
    manifests = {"quotas": [{"endpoint": "nope", "rate_limits": [{"calls_per_minute": 5}]}]}
    with pytest.raises(PlanError, match=r"needs serving_endpoint\.nope"):
        plan_of(tmp_path, manifests)


def test_plan_records_the_live_fingerprint(tmp_path: Path) -> None:
    a = plan_of(tmp_path, {}, live_asset(VSE, "x", {"name": "x", "endpoint_type": "STANDARD"}))
    b = plan_of(tmp_path / "b", {}, live_asset(VSE, "x", {"name": "x", "endpoint_type": "OTHER"}))
    assert a.fingerprint and b.fingerprint and a.fingerprint != b.fingerprint


def test_pruning_what_a_declared_asset_still_uses_is_an_error(tmp_path: Path) -> None:
    """The model left the manifests, but an endpoint still serves its live alias."""
    with pytest.raises(PlanError, match="still uses it"):
        plan_of(
            tmp_path,
            {"serving_endpoints": [endpoint_manifest()]},
            live_asset(RM, MODEL, model_raw({"champion": 2}), owner="proj"),
            alias_asset("champion", 2, owner="proj"),
            live_asset(SE, "ep", endpoint_raw()),
            versions=ready(MODEL, 2),
            target={"prune": True},
        )


def test_index_replace_reason_names_what_its_type_loses() -> None:
    rules = rules_for(KindName.VECTOR_INDEX)
    delta = rules.replace_reason("c.s.i", [FieldDiff(path="delta_sync.source_table")])
    direct = rules.replace_reason("c.s.i", [FieldDiff(path="direct_access.schema.id")])
    assert "re-embeds its whole source table" in delta and "upserted" not in delta
    assert "every row upserted into it is lost" in direct and "re-embeds" not in direct
