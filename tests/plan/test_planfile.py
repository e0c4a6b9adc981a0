"""Saved plans round-trip, keep the live fingerprint, and refuse what is not a plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.model.changes import Action, Change, FieldDiff, Plan, summarize
from reconciler.model.errors import PlanError
from reconciler.plan import planfile


def _plan() -> Plan:
    change = Change(
        address="model_alias.a.b.c@champion",
        kind="model_alias",
        name="a.b.c@champion",
        action=Action.UPDATE,
        diffs=(FieldDiff(path="version", before=3, after=4),),
        depends_on=("registered_model.a.b.c",),
        desired={"model": "a.b.c", "alias": "champion", "version": 4},
    )
    return Plan(
        project="p",
        target="prod",
        changes=(change,),
        summary=summarize((change,)),
        fingerprint="f" * 64,
    )


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    path = planfile.save(_plan(), tmp_path / "out" / "plan.json")
    assert planfile.load(path) == _plan()
    doc = json.loads(path.read_text())
    assert doc["format_version"] == "1" and doc["fingerprint"] == "f" * 64
    assert doc["summary"] == {"create": 0, "update": 1, "replace": 0, "delete": 0}


def test_not_a_plan_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"hello": 1}')
    with pytest.raises(PlanError, match="not a reconciler plan"):
        planfile.load(bad)
    bad.write_text("{")
    with pytest.raises(PlanError, match="not JSON"):
        planfile.load(bad)


def test_other_format_version_is_refused(tmp_path: Path) -> None:
    doc = json.loads(planfile.dumps(_plan()))
    doc["format_version"] = "99"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(PlanError, match="plan format '99'"):
        planfile.load(path)
