"""What apply writes where a target ignores a difference: the live value, found by the diff's
path even when list items are named by key and map keys hold dots."""

from __future__ import annotations

from typing import Any

from reconciler.kinds.keep_live import keep_live
from reconciler.kinds.registry import rules_for
from reconciler.model.changes import FieldDiff
from reconciler.model.resources import KindName

SE = rules_for(KindName.SERVING_ENDPOINT)
QUOTA = rules_for(KindName.QUOTA)


def endpoint(**fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "ep",
        "served_entities": [
            {"name": "champion", "entity": "m.s.x", "version": 3, "workload_size": "Small"},
            {"name": "challenger", "entity": "m.s.x", "version": 4},
        ],
        "traffic": {"champion": 80, "challenger": 20},
        "tags": {"team": "ml", "cost.center": "cc-1"},
    }
    doc.update(fields)
    return doc


def kept(rules: Any, write: dict[str, Any], live: dict[str, Any], *paths: str) -> dict[str, Any]:
    """The write document with the diffs at ``paths`` (between write and live) kept live."""
    diffs = [d for d in rules.field_diffs(write, live) if d.path in paths]
    assert sorted(d.path for d in diffs) == sorted(paths)
    out: dict[str, Any] = rules.keep_live(write, live, diffs)
    return out


def test_an_ignored_tag_with_dots_in_its_key_takes_its_live_value() -> None:
    live = endpoint(tags={"team": "ml", "cost.center": "finops-9"})
    write = kept(SE, endpoint(), live, "tags.cost.center")
    assert write["tags"] == {"team": "ml", "cost.center": "finops-9"}


def test_an_ignored_tag_absent_live_is_left_out_of_the_write() -> None:
    live = endpoint(tags={"team": "ml"})
    write = kept(
        SE, endpoint(tags={"team": "ops", "cost.center": "cc-1"}), live, "tags.cost.center"
    )
    assert write["tags"] == {"team": "ops"}


def test_an_ignored_traffic_split_takes_the_live_routes() -> None:
    live = endpoint(traffic={"champion": 50, "challenger": 50})
    write = kept(SE, endpoint(), live, "traffic.champion", "traffic.challenger")
    assert write["traffic"] == {"champion": 50, "challenger": 50}
    assert SE.write_problem(write) is None


def test_an_ignored_entity_field_keeps_its_live_value_in_that_entity_only() -> None:
    live = endpoint()
    live["served_entities"][0]["workload_size"] = "Large"
    write = kept(SE, endpoint(), live, "served_entities.champion.workload_size")
    sizes = {e["name"]: e.get("workload_size") for e in write["served_entities"]}
    assert sizes == {"champion": "Large", "challenger": None}


def test_an_ignored_removal_of_an_entity_keeps_the_entity() -> None:
    live = endpoint()
    write_doc = endpoint(traffic={"champion": 100})
    write_doc["served_entities"] = write_doc["served_entities"][:1]
    write = kept(SE, write_doc, live, "served_entities.challenger")
    assert [e["name"] for e in write["served_entities"]] == ["champion", "challenger"]


def test_keeping_live_routes_to_an_entity_the_manifest_removes_is_a_problem() -> None:
    live = endpoint()
    write_doc = endpoint(traffic={"champion": 100})
    write_doc["served_entities"] = write_doc["served_entities"][:1]
    write = kept(SE, write_doc, live, "traffic.champion", "traffic.challenger")
    problem = SE.write_problem(write)
    assert problem is not None and "'challenger'" in problem and "20%" in problem


def test_keeping_one_live_route_of_two_that_no_longer_sums_to_100_is_a_problem() -> None:
    live = endpoint(traffic={"champion": 50, "challenger": 50})
    write = kept(SE, endpoint(), live, "traffic.champion")
    assert write["traffic"] == {"champion": 50, "challenger": 20}
    assert SE.write_problem(write) == "the traffic split would sum to 70%, not 100%"


def test_an_ignored_rate_limit_amount_of_a_principal_with_dots_keeps_its_live_value() -> None:
    who = "ann.lee@example.com"
    write = {
        "endpoint": "ep",
        "rate_limits": [{"key": "user", "principal": who, "calls_per_minute": 5}],
    }
    live = {
        "endpoint": "ep",
        "rate_limits": [{"key": "user", "principal": who, "calls_per_minute": 9}],
    }
    out = kept(QUOTA, write, live, f"rate_limits.user/{who}.calls_per_minute")
    assert out["rate_limits"] == live["rate_limits"]


def test_an_ignored_setting_under_a_new_object_is_created_with_the_live_value() -> None:
    write = {"name": "ep", "ai_gateway": {"usage_tracking": True}}
    live = {"name": "ep", "ai_gateway": {"guardrails": {"input": {"safety": True}}}}
    diff = FieldDiff(path="ai_gateway.guardrails.input.safety", before=True, after=False)
    out = keep_live(write, live, [diff], {})
    assert out["ai_gateway"] == {"usage_tracking": True, "guardrails": {"input": {"safety": True}}}
    assert write == {"name": "ep", "ai_gateway": {"usage_tracking": True}}, "input untouched"
