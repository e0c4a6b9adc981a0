"""An alias's approval is compared when the manifest sets one and the version is the same."""

from __future__ import annotations

from reconciler.adapters.databricks.kinds import normalize
from reconciler.kinds.registry import rules_for
from reconciler.model.resources import KindName

LIVE = {"model": "m", "alias": "champion", "version": 4, "approval": "CHG-1"}


def _diffs(desired: dict[str, object]) -> list[tuple[str, object, object]]:
    rules = rules_for(KindName.MODEL_ALIAS)
    found = rules.diff({"model": "m", "alias": "champion", **desired}, LIVE)
    return [(d.path, d.before, d.after) for d in found]


def test_only_the_approval_changed() -> None:
    assert _diffs({"version": 4, "approval": "CHG-2"}) == [("approval", "CHG-1", "CHG-2")]


def test_same_approval_or_none_in_the_manifest_is_no_change() -> None:
    assert _diffs({"version": 4, "approval": "CHG-1"}) == []
    assert _diffs({"version": "4"}) == []


def test_a_move_is_a_version_change_and_records_the_approval_on_the_new_version() -> None:
    assert _diffs({"version": 5, "approval": "CHG-2"}) == [("version", 4, 5)]


def test_normalize_reads_the_approval_the_adapter_found() -> None:
    raw = {"model": "m", "alias_name": "champion", "version_num": "4", "approval": "CHG-1"}
    assert normalize(KindName.MODEL_ALIAS, raw) == LIVE
    assert "approval" not in normalize(
        KindName.MODEL_ALIAS, {"model": "m", "alias_name": "a", "version_num": 1}
    )
