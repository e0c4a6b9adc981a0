"""Adoption is visible: a declared asset that exists and no project owns is an ``adopt`` (with
the diffs it applies), never a silent update; one another project owns is an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.model.changes import Action
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

SE, VSE, IDX = KindName.SERVING_ENDPOINT, KindName.VECTOR_SEARCH_ENDPOINT, KindName.VECTOR_INDEX
MANAGED = {
    "registered_models": [model_manifest(champion=2)],
    "serving_endpoints": [endpoint_manifest(tags={"team": "support"})],
}


def _live(owner: str | None) -> list:  # type: ignore[type-arg]
    return [
        live_asset(KindName.REGISTERED_MODEL, MODEL, model_raw({"champion": 2}), owner="proj"),
        alias_asset("champion", 2, owner="proj"),
        live_asset(SE, "ep", endpoint_raw(), owner=owner),
    ]


def test_unowned_endpoint_with_diffs_is_an_adopt_with_those_diffs(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, MANAGED, *_live(None), versions=ready(MODEL, 2))
    (change,) = plan.changes
    assert change.address == "serving_endpoint.ep" and change.action is Action.ADOPT
    assert [(d.path, d.before, d.after) for d in change.diffs] == [("tags.team", "ml", "support")]
    assert not change.destructive and change.desired is not None
    assert plan.summary.adopt == 1 and plan.summary.update == 0


def test_same_endpoint_owned_by_this_project_is_a_plain_update(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, MANAGED, *_live("proj"), versions=ready(MODEL, 2))
    assert [c.action for c in plan.changes] == [Action.UPDATE]


def test_unowned_asset_that_matches_is_still_adopted_marker_only(tmp_path: Path) -> None:
    manifests = {**MANAGED, "serving_endpoints": [endpoint_manifest()]}
    plan = plan_of(tmp_path, manifests, *_live(None), versions=ready(MODEL, 2))
    (change,) = plan.changes
    assert change.action is Action.ADOPT and change.diffs == ()
    owned = plan_of(tmp_path / "o", manifests, *_live("proj"), versions=ready(MODEL, 2))
    assert owned.empty


def test_every_unowned_kind_is_adopted(tmp_path: Path) -> None:
    manifests = {
        "registered_models": [model_manifest(champion=2)],
        "vector_search_endpoints": [{"name": "vs"}],
        "vector_indexes": [
            {
                "name": "main.sch.idx",
                "endpoint": "vs",
                "primary_key": "id",
                "direct_access": {"schema": {"id": "integer"}},
            }
        ],
    }
    live = [
        live_asset(KindName.REGISTERED_MODEL, MODEL, model_raw({"champion": 2}), owner=None),
        alias_asset("champion", 2, owner=None),
        live_asset(VSE, "vs", {"name": "vs", "endpoint_type": "STANDARD"}, owner=None),
        live_asset(
            IDX,
            "main.sch.idx",
            {
                "name": "main.sch.idx",
                "endpoint_name": "vs",
                "primary_key": "id",
                "index_type": "DIRECT_ACCESS",
                "direct_access_index_spec": {"schema_json": '{"id": "int"}'},
            },
            owner=None,
        ),
    ]
    plan = plan_of(tmp_path, manifests, *live, versions=ready(MODEL, 2))
    assert {c.address: c.action for c in plan.changes} == {
        f"registered_model.{MODEL}": Action.ADOPT,
        f"model_alias.{MODEL}@champion": Action.ADOPT,
        "vector_search_endpoint.vs": Action.ADOPT,
        "vector_index.main.sch.idx": Action.ADOPT,
    }
    assert plan.summary.adopt == 4


def test_adopting_what_would_need_a_replace_is_refused(tmp_path: Path) -> None:
    manifests = {"vector_search_endpoints": [{"name": "vs", "type": "STORAGE_OPTIMIZED"}]}
    live = live_asset(VSE, "vs", {"name": "vs", "endpoint_type": "STANDARD"}, owner=None)
    with pytest.raises(PlanError) as caught:
        plan_of(tmp_path, manifests, live)
    error = caught.value
    assert "vector_search_endpoint.vs exists and no project owns it" in error.message
    assert "would replace it (type cannot change in place)" in error.message
    assert "reconciler import" in (error.hint or "")
    assert error.location is not None and error.location.file.endswith("main.yaml")


def test_asset_owned_by_another_project_is_refused_naming_the_owner(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as caught:
        plan_of(tmp_path, MANAGED, *_live("billing"), versions=ready(MODEL, 2))
    assert "serving_endpoint.ep is owned by project 'billing'" in caught.value.message
    assert caught.value.location is not None


def test_external_endpoint_nobody_owns_is_not_adopted(tmp_path: Path) -> None:
    manifests = {"vector_search_endpoints": [{"name": "vs", "external": True}]}
    live = live_asset(VSE, "vs", {"name": "vs", "endpoint_type": "STANDARD"}, owner=None)
    assert plan_of(tmp_path, manifests, live).empty


def test_ignored_fields_are_not_adopt_diffs(tmp_path: Path) -> None:
    target = {"ignore": [{"asset": "serving_endpoint.*", "fields": ["tags.team"]}]}
    plan = plan_of(tmp_path, MANAGED, *_live(None), versions=ready(MODEL, 2), target=target)
    (change,) = plan.changes
    assert change.action is Action.ADOPT and change.diffs == ()
