"""Saved plans round-trip, keep the live fingerprint, and refuse what is not a plan: not JSON,
not UTF-8, too large, too deep, not a regular file, another format version."""

from __future__ import annotations

import json
import os
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
    assert doc["summary"] == {"create": 0, "update": 1, "replace": 0, "delete": 0, "adopt": 0}


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


def test_nan_is_not_json(tmp_path: Path) -> None:
    doc = json.loads(planfile.dumps(_plan()))
    text = json.dumps(doc).replace('"after": 4', '"after": NaN')
    with pytest.raises(PlanError, match="NaN is not a JSON number"):
        planfile.loads(text, source="p.json")


def test_binary_noise_is_not_utf8(tmp_path: Path) -> None:
    bad = tmp_path / "noise.json"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PlanError, match="not UTF-8"):
        planfile.load(bad)


def test_nesting_deeper_than_the_cap_is_refused_without_recursion() -> None:
    for levels in (planfile.MAX_DEPTH + 1, 100_000):
        text = '{"target": "t", "changes": []' + ', "x": ' + "[" * levels + "]" * levels + "}"
        with pytest.raises(PlanError, match="nest"):
            planfile.loads(text, source="deep.json")


def test_a_real_plan_stays_well_under_the_depth_cap() -> None:
    assert planfile.depth(json.loads(planfile.dumps(_plan()))) < planfile.MAX_DEPTH // 4


def test_file_over_the_size_cap_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 2048)
    with pytest.raises(PlanError, match="larger than"):
        planfile.read_bounded(big, limit=1024)
    assert planfile.read_bounded(big, limit=4096) == b" " * 2048


def test_fifo_and_directory_are_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "plan.fifo"
    os.mkfifo(fifo)
    with pytest.raises(PlanError, match="not a regular file"):
        planfile.load(fifo)
    with pytest.raises(PlanError, match="not a regular file"):
        planfile.load(tmp_path)
    with pytest.raises(PlanError, match="cannot read plan file"):
        planfile.load(tmp_path / "missing.json")


def test_wrong_shapes_are_invalid_plans_naming_where() -> None:
    doc = json.loads(planfile.dumps(_plan()))
    doc["changes"][0]["action"] = "explode"
    with pytest.raises(PlanError, match=r"invalid plan at changes\.0\.action"):
        planfile.loads(json.dumps(doc), source="p.json")
    for not_a_plan in ("[]", '"plan"', "null", '{"changes": []}'):
        with pytest.raises(PlanError, match="not a reconciler plan"):
            planfile.loads(not_a_plan, source="p.json")


def test_saving_never_replaces_a_fifo_device_or_directory(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(PlanError, match=r"cannot save the plan to .*pipe.json: it is a FIFO"):
        planfile.save(_plan(), fifo)
    assert fifo.is_fifo()
    with pytest.raises(PlanError, match="it is a directory, not a regular file"):
        planfile.save(_plan(), tmp_path)
    device = tmp_path / "null.json"
    device.symlink_to("/dev/null")  # a link, so a regression could only replace the link
    with pytest.raises(PlanError, match="it is a character device, not a regular file"):
        planfile.save(_plan(), device)
    assert device.is_symlink() and Path("/dev/null").is_char_device()
    assert sorted(os.listdir(tmp_path)) == ["null.json", "pipe.json"]  # no temporary file left


def test_saving_through_a_symlink_writes_its_file_and_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    link = tmp_path / "link.json"
    link.symlink_to(real)
    planfile.save(_plan(), link)
    assert link.is_symlink() and planfile.load(real) == _plan()


def test_saving_where_no_file_can_be_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(PlanError, match=r"cannot save the plan to .*file.txt/plan.json: "):
        planfile.save(_plan(), blocker / "plan.json")
    assert blocker.read_text() == "x"
