"""The drift report read from a plan: statuses, live vs manifest values, three formats."""

from __future__ import annotations

import json

from reconciler.gitops.drift import Status, drift_from_plan, render
from reconciler.model.changes import Action, Change, FieldDiff, Plan, summarize


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
