"""Grants diff: authoritative for the principals the manifest names, and a principal this
project granted and no longer names loses what was recorded, nothing more."""

from __future__ import annotations

from reconciler.kinds.grants import (
    canonical_grants,
    diff_grants,
    grant_changes,
    import_grants,
    record_after,
)
from reconciler.model.changes import FieldDiff


def _live(grants: dict[str, list[str]], recorded: dict[str, dict[str, list[str]]]) -> dict:  # type: ignore[type-arg]
    return {
        "grants": [{"group": p, "privileges": v} for p, v in grants.items()],
        "granted_by": recorded,
    }


def test_named_principals_get_exactly_their_privileges() -> None:
    desired = {"grants": [{"group": "agents", "privileges": ["EXECUTE"]}]}
    live = _live({"agents": ["EXECUTE", "MANAGE"], "others": ["EXECUTE"]}, {})
    assert diff_grants(desired, live, "proj") == [
        FieldDiff(path="grants.agents", before=["EXECUTE", "MANAGE"], after=["EXECUTE"])
    ]


def test_principals_not_named_are_left_alone_unless_this_project_granted_them() -> None:
    desired: dict[str, list[object]] = {"grants": []}
    live = _live(
        {"former": ["APPLY_TAG", "EXECUTE"], "by-hand": ["EXECUTE"], "theirs": ["MANAGE"]},
        {"proj": {"former": ["EXECUTE"]}, "other": {"theirs": ["MANAGE"]}},
    )
    assert diff_grants(desired, live, "proj") == [
        FieldDiff(path="grants.former", before=["APPLY_TAG", "EXECUTE"], after=["APPLY_TAG"])
    ]
    assert diff_grants(desired, live, "other") == [
        FieldDiff(path="grants.theirs", before=["MANAGE"], after=None)
    ]
    assert diff_grants({}, live, "proj") == [], "grants left out are not managed"


def test_all_privileges_stands_for_what_it_implies() -> None:
    desired = {"grants": [{"user": "a@x.io", "privileges": ["ALL_PRIVILEGES"]}]}
    live = {"grants": [{"user": "a@x.io", "privileges": ["ALL_PRIVILEGES", "EXECUTE"]}]}
    assert diff_grants(canonical_doc(desired), live, "p") == []
    assert canonical_grants(live["grants"]) == [
        {"user": "a@x.io", "privileges": ["ALL_PRIVILEGES"]}
    ]


def canonical_doc(doc: dict) -> dict:  # type: ignore[type-arg]
    return {"grants": canonical_grants(doc["grants"])}


def test_diffs_become_the_api_changes() -> None:
    diffs = [
        FieldDiff(
            path="grants.a@x.io", before=["EXECUTE", "MANAGE"], after=["APPLY_TAG", "EXECUTE"]
        ),
        FieldDiff(path="grants.gone", before=["EXECUTE"], after=None),
        FieldDiff(path="tags.x", before="1", after="2"),
    ]
    assert grant_changes(diffs) == [
        {"principal": "a@x.io", "add": ["APPLY_TAG"], "remove": ["MANAGE"]},
        {"principal": "gone", "remove": ["EXECUTE"]},
    ]


def test_the_record_keeps_what_was_granted_and_forgets_what_was_revoked() -> None:
    desired = [{"group": "agents", "privileges": ["EXECUTE"]}]
    recorded = {"gone": ["EXECUTE"], "ignored": ["EXECUTE"], "stale": ["MANAGE"]}
    diffs = [FieldDiff(path="grants.gone", before=["EXECUTE"], after=None)]
    held = {"agents": ["EXECUTE"], "ignored": ["EXECUTE"]}
    assert record_after(recorded, desired, diffs, held) == {
        "agents": ["EXECUTE"],
        "ignored": ["EXECUTE"],
    }


def test_import_guesses_the_kind_of_principal() -> None:
    grants = [
        {"principal": "a@x.io", "privileges": ["EXECUTE"]},
        {"principal": "6f1c6b2e-0d3a-4c8e-9b1a-2f6e8d7c5a41", "privileges": ["EXECUTE"]},
        {"principal": "support agents", "privileges": ["MANAGE", "EXECUTE"]},
    ]
    assert import_grants(grants) == [
        {"service_principal": "6f1c6b2e-0d3a-4c8e-9b1a-2f6e8d7c5a41", "privileges": ["EXECUTE"]},
        {"user": "a@x.io", "privileges": ["EXECUTE"]},
        {"group": "support agents", "privileges": ["EXECUTE", "MANAGE"]},
    ]
