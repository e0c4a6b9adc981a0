"""The deploying identity keeps CAN_MANAGE wherever permissions are set, unless an explicit
entry names it (then a caution says what that does)."""

from __future__ import annotations

from reconciler.adapters.databricks.identity import principal_of
from reconciler.kinds.access import keep_deployer, lowered

TEAM = {"group": "support", "level": "CAN_QUERY"}
SP = "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"


def test_the_deployer_is_added_at_can_manage_when_no_entry_names_it() -> None:
    assert keep_deployer([TEAM], {"service_principal": SP}) == [
        TEAM,
        {"service_principal": SP, "level": "CAN_MANAGE"},
    ]
    assert lowered(keep_deployer([TEAM], {"user": "a@b.com"}), {"user": "a@b.com"}) is None


def test_an_explicit_entry_for_the_deployer_wins_and_a_lower_one_is_a_caution() -> None:
    mine = {"user": "Deployer@Example.com", "level": "CAN_QUERY"}
    assert keep_deployer([TEAM, mine], {"user": "deployer@example.com"}) == [TEAM, mine]
    caution = lowered([TEAM, mine], {"user": "deployer@example.com"})
    assert caution is not None and "to CAN_QUERY" in caution and "403" in caution
    manage = {"user": "deployer@example.com", "level": "CAN_MANAGE"}
    assert lowered([mine, manage], {"user": "deployer@example.com"}) is None


def test_without_a_known_caller_nothing_is_added() -> None:
    assert keep_deployer([TEAM], None) == [TEAM]
    assert lowered([TEAM], None) is None


def test_a_service_principal_is_named_by_its_application_id() -> None:
    assert principal_of({"userName": SP, "displayName": "ci"}) == {"service_principal": SP}
    assert principal_of({"userName": "a@b.com"}) == {"user": "a@b.com"}
