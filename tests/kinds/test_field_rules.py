"""Field rules are data the generic parts read: folded values, server defaults, write-only
fields and immutable fields behave the same for every kind that declares them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from reconciler.kinds.registry import rules_for
from reconciler.kinds.rules import KindRules, without_defaults
from reconciler.model.changes import FieldDiff
from reconciler.model.resources import KindName


class _Sample(KindRules):
    kind = KindName.REGISTERED_MODEL
    immutable: ClassVar[Mapping[str, str]] = {"location": "set at creation"}
    server_defaults: ClassVar[Mapping[str, Any]] = {"size": "S", "items.*.on": False}
    write_only: ClassVar[frozenset[str]] = frozenset({"secret"})
    folded: ClassVar[Mapping[str, Callable[[Any], Any]]] = {"spec.names": sorted}


RULES = _Sample()


def test_folded_fields_take_their_canonical_form_wherever_they_sit() -> None:
    doc = {"spec": {"names": ["b", "a"], "other": ["z", "y"]}, "names": ["d", "c"]}
    assert RULES.fold(doc) == {
        "spec": {"names": ["a", "b"], "other": ["z", "y"]},
        "names": ["d", "c"],
    }
    assert RULES.fold({"spec": None}) == {"spec": None}
    assert doc["spec"]["names"] == ["b", "a"], "the input is not changed"


def test_an_absent_live_value_compares_as_its_server_default() -> None:
    assert RULES.field_diffs({"size": "S"}, {}) == []
    assert RULES.field_diffs({"size": "L"}, {}) == [FieldDiff(path="size", before="S", after="L")]


def test_write_only_fields_are_never_compared() -> None:
    desired = {"secret": {"token": "x"}, "size": "L"}
    found = RULES.field_diffs(desired, {"size": "S"})
    assert [d.path for d in found] == ["size"]


def test_a_change_under_an_immutable_field_needs_a_replace() -> None:
    diffs = [FieldDiff(path="location.region"), FieldDiff(path="locations"), FieldDiff(path="x")]
    assert [d.path for d in RULES.needs_replace(diffs)] == ["location.region"]


def test_import_leaves_server_defaults_and_empty_values_out() -> None:
    doc = {"size": "S", "items": [{"on": False, "n": 1}, {"on": True}], "tags": {}, "x": None}
    assert without_defaults(doc, RULES.server_defaults) == {"items": [{"n": 1}, {"on": True}]}


def test_serving_endpoint_entities_declare_what_the_server_fills_in() -> None:
    defaults = rules_for(KindName.SERVING_ENDPOINT).server_defaults
    assert defaults["served_entities.*.workload_type"] == "CPU"
    assert defaults["served_entities.*.scale_to_zero"] is False
    assert defaults["ai_gateway.usage_tracking"] is False


def test_a_star_in_a_write_only_path_matches_any_one_part() -> None:
    rules = rules_for(KindName.SERVING_ENDPOINT)
    desired = {
        "served_entities": [{"name": "a", "entity": "c.s.m", "version": 1}],
        "traffic": {"a": 100},
    }
    with_burst = {
        **desired,
        "served_entities": [{**desired["served_entities"][0], "burst_scaling_enabled": True}],
    }
    assert rules.field_diffs(with_burst, desired) == []
    echoed = {
        **desired,
        "served_entities": [{**desired["served_entities"][0], "burst_scaling_enabled": False}],
    }
    assert rules.field_diffs(with_burst, echoed) == []
    assert [d.path for d in rules.diff(with_burst, desired)] == [
        "served_entities.a.burst_scaling_enabled"
    ]
