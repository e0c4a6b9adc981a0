"""The drift report read from a plan: statuses, live vs manifest values, health, three
formats."""

from __future__ import annotations

import json

from reconciler.gitops.drift import Status, drift_from_plan, render
from reconciler.gitops.report import drift_issue_body
from reconciler.model.changes import Action, Change, FieldDiff, Plan, summarize
from reconciler.model.health import AssetHealth, HealthStatus


def plan_of(*changes: Change) -> Plan:
    return Plan(project="p", target="prod", changes=changes, summary=summarize(changes))


TRAFFIC = Change(
    address="serving_endpoint.support",
    kind="serving_endpoint",
    name="support",
    action=Action.UPDATE,
    diffs=(
        FieldDiff(path="traffic.champion", before=50, after=90),
        FieldDiff(path="tags.team", before=None, after="support"),
    ),
)
GONE = Change(
    address="vector_index.main.s.docs",
    kind="vector_index",
    name="main.s.docs",
    action=Action.CREATE,
    diffs=(FieldDiff(path="primary_key", after="id"),),
)
REBUILT = Change(
    address="vector_search_endpoint.vs",
    kind="vector_search_endpoint",
    name="vs",
    action=Action.REPLACE,
    diffs=(FieldDiff(path="type", before="STORAGE_OPTIMIZED", after="STANDARD"),),
    reason="type cannot change in place",
)
LEFTOVER = Change(
    address="model_alias.main.s.m@old",
    kind="model_alias",
    name="main.s.m@old",
    action=Action.DELETE,
    diffs=(FieldDiff(path="version", before=3),),
    reason="left the manifests",
)


def test_in_sync() -> None:
    report = drift_from_plan(plan_of())
    assert report.in_sync
    assert "in sync" in render(report, "text")
    assert "No drift" in render(report, "markdown")
    assert json.loads(render(report, "json"))["in_sync"] is True


def test_statuses_and_values_from_the_live_side() -> None:
    report = drift_from_plan(plan_of(TRAFFIC, GONE, REBUILT, LEFTOVER))
    by = {a.address: a for a in report.drifted}
    assert [a.address for a in report.drifted] == sorted(by)
    assert by[TRAFFIC.address].status is Status.DIFFERS
    assert [(f.path, f.live, f.manifest) for f in by[TRAFFIC.address].fields] == [
        ("traffic.champion", 50, 90),
        ("tags.team", None, "support"),
    ]
    assert by[GONE.address].status is Status.MISSING and by[GONE.address].fields == ()
    assert by[REBUILT.address].status is Status.REBUILD
    assert by[REBUILT.address].note == "type cannot change in place"
    assert by[LEFTOVER.address].status is Status.EXTRA
    assert by[LEFTOVER.address].fields[0].live == 3


def test_text() -> None:
    text = render(drift_from_plan(plan_of(TRAFFIC, GONE)), "text")
    assert "2 assets drifted" in text
    assert "~ serving_endpoint.support differs from the manifest" in text
    assert "traffic.champion  live: 50  manifest: 90" in text
    assert "tags.team         live: (unset)  manifest: support" in text
    assert "- vector_index.main.s.docs is declared but missing" in text


def test_json_contract() -> None:
    data = json.loads(render(drift_from_plan(plan_of(TRAFFIC, LEFTOVER)), "json"))
    assert data["format_version"] == "1"
    assert data["target"] == "prod" and data["in_sync"] is False
    assert data["summary"] == {"differs": 1, "rebuild": 0, "missing": 0, "extra": 1}
    endpoint = next(a for a in data["drifted"] if a["kind"] == "serving_endpoint")
    assert endpoint["fields"][0] == {"path": "traffic.champion", "live": 50, "manifest": 90}


def test_markdown_table_escapes_values() -> None:
    change = Change(
        address="serving_endpoint.x",
        kind="serving_endpoint",
        name="x",
        action=Action.UPDATE,
        diffs=(FieldDiff(path="tags.note", before="a|b", after={"k": [1, 2]}),),
    )
    md = render(drift_from_plan(plan_of(change, GONE)), "markdown")
    assert "| asset | status | field | live | manifest |" in md
    assert '| `serving_endpoint.x` | differs | `tags.note` | `a\\|b` | `{"k": [1, 2]}` |' in md
    assert "| `vector_index.main.s.docs` | missing |  |  |  |" in md


ADOPTED_AS_IS = Change(
    address="vector_search_endpoint.hand-made",
    kind="vector_search_endpoint",
    name="hand-made",
    action=Action.ADOPT,
)
ADOPTED_WITH_DIFF = ADOPTED_AS_IS.model_copy(
    update={
        "address": "vector_search_endpoint.other",
        "name": "other",
        "diffs": (FieldDiff(path="tags.team", before="ml", after="support"),),
    }
)


def test_adopt_without_diffs_is_not_drift_with_diffs_it_differs() -> None:
    report = drift_from_plan(plan_of(ADOPTED_AS_IS, ADOPTED_WITH_DIFF))
    (only,) = report.drifted
    assert only.address == "vector_search_endpoint.other" and only.status is Status.DIFFERS
    assert only.note is not None and "no project owns it" in only.note


def _health(status: HealthStatus) -> AssetHealth:
    return AssetHealth(
        address="serving_endpoint.support",
        kind="serving_endpoint",
        name="support",
        status=status,
        message="config update ended UPDATE_FAILED: champion: Model version m version 2 is"
        " FAILED_REGISTRATION, not READY.",
    )


def test_degraded_asset_is_not_clean_even_in_sync() -> None:
    plan = plan_of().model_copy(update={"health": (_health(HealthStatus.DEGRADED),)})
    report = drift_from_plan(plan)
    assert report.in_sync and not report.healthy and not report.clean
    text = render(report, "text")
    assert "in sync with the manifests" in text
    assert "1 declared asset is not healthy (1 degraded, 0 progressing)" in text
    assert "serving_endpoint.support degraded: config update ended UPDATE_FAILED" in text
    assert "exit 2: degraded assets" in text and "exit 2: drift" not in text
    markdown = render(report, "markdown")
    assert "**Health**" in markdown
    assert (
        "| `serving_endpoint.support` | degraded | `config update ended UPDATE_FAILED" in markdown
    )
    data = json.loads(render(report, "json"))
    assert data["in_sync"] is True and data["healthy"] is False
    assert data["health"][0]["status"] == "degraded"
    assert data["health"][0]["message"].endswith("FAILED_REGISTRATION, not READY.")


def test_progressing_asset_is_listed_but_clean() -> None:
    plan = plan_of().model_copy(update={"health": (_health(HealthStatus.PROGRESSING),)})
    report = drift_from_plan(plan)
    assert report.clean
    assert "progressing" in render(report, "text") and "exit 2" not in render(report, "text")


def test_drift_issue_body_lists_unhealthy_assets() -> None:
    plan = plan_of(TRAFFIC).model_copy(update={"health": (_health(HealthStatus.DEGRADED),)})
    body = drift_issue_body("prod", render(drift_from_plan(plan), "markdown"))
    assert "| `serving_endpoint.support` | degraded |" in body
    assert "traffic.champion" in body
    assert "A degraded asset" in body and "back in sync and healthy" in body
