"""What deletes and replaces take with them: refused when it is not this project's, rebuilt in
the same plan when it is; orphaned indexes rebuilt; a missing marker written."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from reconciler.kinds.resolve import Collector
from reconciler.model.changes import Action
from reconciler.model.errors import PlanError
from reconciler.model.live import OWNER_TAG, Held, LiveAsset
from reconciler.model.resources import KindName
from reconciler.plan.reads import may_destroy

from .helpers import (
    MODEL,
    PROJECT,
    alias_asset,
    desired_state,
    endpoint_manifest,
    endpoint_raw,
    live_asset,
    live_state,
    model_raw,
    plan_of,
    ready,
)

VSE, IDX, RM, MA = (
    KindName.VECTOR_SEARCH_ENDPOINT,
    KindName.VECTOR_INDEX,
    KindName.REGISTERED_MODEL,
    KindName.MODEL_ALIAS,
)
MINE, THEIRS = "main.sch.mine", "main.sch.theirs"


def index_manifest(name: str = MINE, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "endpoint": "vs",
        "primary_key": "id",
        "direct_access": {
            "schema": {"id": "long", "vec": "array<float>"},
            "embedding_vector_columns": [{"name": "vec", "dimension": 8}],
        },
        **extra,
    }


def index_raw(name: str = MINE, endpoint_id: str = "ep-1") -> dict[str, Any]:
    return {
        "name": name,
        "endpoint_name": "vs",
        "endpoint_id": endpoint_id,
        "primary_key": "id",
        "index_type": "DIRECT_ACCESS",
        "index_subtype": "HYBRID",
        "direct_access_index_spec": {
            "schema_json": '{"id":"bigint","vec":"array<float>"}',
            "embedding_vector_columns": [{"name": "vec", "embedding_dimension": 8}],
        },
    }


def endpoint(*holds: Held, owner: str | None = PROJECT, type_: str = "STANDARD") -> LiveAsset:
    raw = {"name": "vs", "id": "ep-1", "endpoint_type": type_, "num_indexes": len(holds)}
    return replace(live_asset(VSE, "vs", raw, owner), holds=holds)


def held(name: str, owner: str | None) -> Held:
    return Held(f"vector_index.{name}", owner)


def test_pruning_an_endpoint_holding_another_projects_index_is_refused(tmp_path: Path) -> None:
    """Project A pruned its endpoint and destroyed project B's index: now refused, named."""
    live = endpoint(held(MINE, PROJECT), held(THEIRS, "b"), held("main.sch.loose", None))
    own = live_asset(IDX, MINE, index_raw(), PROJECT)
    with pytest.raises(PlanError) as refused:
        plan_of(tmp_path, {}, live, own, target={"prune": True})
    message = str(refused.value)
    assert "vector_search_endpoint.vs cannot be deleted" in message
    assert f"vector_index.{THEIRS} (owned by project 'b')" in message
    assert "vector_index.main.sch.loose (owned by no project)" in message
    assert f"vector_index.{MINE}" not in message
    assert refused.value.hint is not None and "--allow-delete" in refused.value.hint


def test_replacing_an_endpoint_holding_another_projects_index_is_refused(
    tmp_path: Path,
) -> None:
    manifests = {"vector_search_endpoints": [{"name": "vs", "type": "STORAGE_OPTIMIZED"}]}
    with pytest.raises(PlanError, match=r"cannot be replaced.*owned by project 'b'") as refused:
        plan_of(tmp_path, manifests, endpoint(held(THEIRS, "b")))
    assert refused.value.location is not None  # the endpoint's manifest entry


def test_pruning_an_endpoint_deletes_own_indexes_first(tmp_path: Path) -> None:
    own = live_asset(IDX, MINE, index_raw(), PROJECT)
    plan = plan_of(tmp_path, {}, endpoint(held(MINE, PROJECT)), own, target={"prune": True})
    assert [(c.address, c.action) for c in plan.changes] == [
        (f"vector_index.{MINE}", Action.DELETE),
        ("vector_search_endpoint.vs", Action.DELETE),
    ]
    index, vs = plan.changes
    assert vs.depends_on == (index.address,), "the executor deletes the index first"
    assert index.depends_on == ()
    assert vs.reason is not None and f"vector_index.{MINE}, deleted before it" in vs.reason


def test_own_index_left_behind_on_a_non_pruning_target_blocks_the_replace(
    tmp_path: Path,
) -> None:
    manifests = {"vector_search_endpoints": [{"name": "vs", "type": "STORAGE_OPTIMIZED"}]}
    with pytest.raises(PlanError, match="left the manifests and this plan does not delete it"):
        plan_of(tmp_path, manifests, endpoint(held(MINE, PROJECT)))


def test_replacing_an_endpoint_rebuilds_its_own_declared_indexes_after_it(
    tmp_path: Path,
) -> None:
    manifests = {
        "vector_search_endpoints": [{"name": "vs", "type": "STORAGE_OPTIMIZED"}],
        "vector_indexes": [index_manifest()],
    }
    own = live_asset(IDX, MINE, index_raw(), PROJECT)
    plan = plan_of(tmp_path, manifests, endpoint(held(MINE, PROJECT)), own)
    assert [(c.address, c.action) for c in plan.changes] == [
        ("vector_search_endpoint.vs", Action.REPLACE),
        (f"vector_index.{MINE}", Action.REPLACE),
    ]
    vs, index = plan.changes
    assert index.depends_on == ("vector_search_endpoint.vs",)
    assert index.desired is not None and index.desired["endpoint"] == "vs"
    assert index.reason is not None
    assert "its vector search endpoint vs is replaced" in index.reason
    assert "every row upserted into it is lost" in index.reason
    assert vs.reason is not None
    assert f"rebuilt after it by this plan: vector_index.{MINE} (every row upserted" in vs.reason
    assert plan.summary.replace == 2


def test_a_protected_index_blocks_the_replace_of_its_endpoint(tmp_path: Path) -> None:
    manifests = {
        "vector_search_endpoints": [{"name": "vs", "type": "STORAGE_OPTIMIZED"}],
        "vector_indexes": [index_manifest()],
    }
    own = live_asset(IDX, MINE, index_raw(), PROJECT)
    with pytest.raises(PlanError, match="protected on this target"):
        plan_of(
            tmp_path,
            manifests,
            endpoint(held(MINE, PROJECT)),
            own,
            target={"protected": ["vector_index.*"]},
        )


def test_an_orphaned_index_is_rebuilt_never_no_changes(tmp_path: Path) -> None:
    """The endpoint was deleted and created again after the index: the index is OFFLINE for
    good, though its fields match. The plan rebuilds it rather than saying "No changes"."""
    manifests = {"vector_search_endpoints": [{"name": "vs"}], "vector_indexes": [index_manifest()]}
    why = "its vector search endpoint vs was deleted and created again after it was built"
    orphan = replace(live_asset(IDX, MINE, index_raw(endpoint_id="old"), None), rebuild=why)
    plan = plan_of(tmp_path, manifests, endpoint(), orphan)
    (change,) = plan.changes
    assert change.action is Action.REPLACE and change.diffs == ()
    assert change.reason is not None and change.reason.startswith(why)


def test_an_endpoint_known_only_by_its_intent_gets_its_marker(tmp_path: Path) -> None:
    """Created by an apply killed before the tags: the plan writes the marker, nothing else."""
    manifests = {"vector_search_endpoints": [{"name": "vs"}]}
    unmarked = replace(endpoint(), marked=False)
    plan = plan_of(tmp_path, manifests, unmarked)
    (change,) = plan.changes
    assert change.action is Action.UPDATE
    assert [(d.path, d.before, d.after) for d in change.diffs] == [
        (f"tags.{OWNER_TAG}", None, PROJECT)
    ]
    marked = plan_of(tmp_path, manifests, endpoint())
    assert marked.empty


def test_pruning_a_model_refuses_another_projects_alias_on_it(tmp_path: Path) -> None:
    model = replace(
        live_asset(RM, MODEL, model_raw({"champion": 1, "b_live": 1}), PROJECT),
        holds=(
            Held(f"model_alias.{MODEL}@b_live", "b"),
            Held(f"model_alias.{MODEL}@champion", None),
        ),
    )
    with pytest.raises(PlanError, match=rf"model_alias\.{MODEL}@b_live \(owned by project 'b'\)"):
        plan_of(tmp_path, {}, model, target={"prune": True}, versions=ready(MODEL, 1))


def test_pruning_a_model_takes_unmanaged_aliases_and_says_so(tmp_path: Path) -> None:
    model = replace(
        live_asset(RM, MODEL, model_raw({"champion": 1}), PROJECT),
        holds=(Held(f"model_alias.{MODEL}@champion", None),),
    )
    plan = plan_of(tmp_path, {}, model, target={"prune": True})
    (change,) = plan.changes
    assert change.action is Action.DELETE and change.reason is not None
    assert f"with it go model_alias.{MODEL}@champion (an alias no project manages" in change.reason


def test_a_serving_endpoint_replace_keeps_the_quota_it_holds(tmp_path: Path) -> None:
    live = replace(
        live_asset(KindName.SERVING_ENDPOINT, "ep", endpoint_raw(), PROJECT),
        holds=(Held("quota.ep", "b", kept_on_replace=True),),
    )
    plan = plan_of(
        tmp_path,
        {"serving_endpoints": [endpoint_manifest(route_optimized=True)]},
        live,
        live_asset(RM, MODEL, model_raw({"champion": 2})),
        alias_asset("champion", 2),
        versions=ready(MODEL, 2),
    )
    (change,) = plan.changes
    assert change.action is Action.REPLACE  # the quota of project b goes over to the new one
    with pytest.raises(PlanError, match=r"quota\.ep \(owned by project 'b'\)"):
        plan_of(tmp_path, {}, live, target={"prune": True})


def test_what_they_hold_is_read_only_for_assets_the_plan_may_destroy(tmp_path: Path) -> None:
    """A second read, for these only: a plan that destroys nothing costs no extra call."""
    manifests = {
        "vector_search_endpoints": [{"name": "vs"}, {"name": "typed", "type": "STORAGE_OPTIMIZED"}],
    }
    desired, target = desired_state(tmp_path, manifests, {"prune": True})
    typed = {"name": "typed", "id": "2", "endpoint_type": "STANDARD"}
    gone = {"name": "gone", "id": "3", "endpoint_type": "STANDARD"}
    live = live_state(
        endpoint(),
        live_asset(VSE, "typed", typed, PROJECT),
        live_asset(VSE, "gone", gone, PROJECT),
        live_asset(VSE, "others", {**gone, "name": "others"}, "b"),
    )
    found = may_destroy(desired, target, live, Collector(desired, live))
    assert found == [(VSE, "gone"), (VSE, "typed")]
