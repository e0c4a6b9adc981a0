"""Properties of normalization: order and spelling the server chooses never read as changes."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.adapters.databricks.kinds import normalize
from reconciler.kinds.index_spec import fold_schema
from reconciler.kinds.quota import canonical_limits
from reconciler.kinds.registry import rules_for
from reconciler.model.resources import KindName

keys = st.text(alphabet="abcdefghij_", min_size=1, max_size=8)
tag_maps = st.dictionaries(keys, st.text(max_size=8), max_size=6)


@settings(max_examples=60, deadline=None)
@given(tags=tag_maps, data=st.data())
def test_tags_in_any_order_compare_equal(tags: dict[str, str], data: st.DataObject) -> None:
    wire = [{"key": k, "value": v} for k, v in tags.items()]
    shuffled = data.draw(st.permutations(wire))
    rules = rules_for(KindName.VECTOR_SEARCH_ENDPOINT)
    live = normalize(
        rules.kind, {"name": "vs", "endpoint_type": "STANDARD", "custom_tags": shuffled}
    )
    assert rules.diff({"name": "vs", "tags": dict(sorted(tags.items()))}, live) == []


limit = st.fixed_dictionaries(
    {"key": st.sampled_from(["user", "user_group", "service_principal"]), "principal": keys},
    optional={"calls": st.integers(0, 10_000), "tokens": st.integers(0, 10_000)},
)


@settings(max_examples=60, deadline=None)
@given(
    limits=st.lists(limit, max_size=5, unique_by=lambda x: (x["key"], x["principal"])),
    data=st.data(),
)
def test_rate_limits_in_any_order_compare_equal(limits: list[dict], data: st.DataObject) -> None:
    limits = [lim for lim in limits if "calls" in lim or "tokens" in lim]
    shuffled = data.draw(st.permutations(limits))
    rules = rules_for(KindName.QUOTA)
    live = normalize(rules.kind, {"name": "ep", "ai_gateway": {"rate_limits": shuffled}})
    in_manifest = [
        {
            "key": lim["key"],
            "principal": lim["principal"],
            "calls_per_minute": lim.get("calls"),
            "tokens_per_minute": lim.get("tokens"),
        }
        for lim in limits
    ]
    desired = {"endpoint": "ep", "rate_limits": canonical_limits(in_manifest)}
    assert rules.diff(desired, live) == []


types = st.sampled_from(["integer", "int", "long", "bigint", "string", "float", "array<float>"])


@settings(max_examples=60, deadline=None)
@given(schema=st.dictionaries(keys, types, min_size=1, max_size=6), data=st.data())
def test_schema_json_is_the_same_schema_whatever_the_server_writes(
    schema: dict[str, str], data: st.DataObject
) -> None:
    spark = {"integer": "int", "long": "bigint"}
    server = {k: spark.get(v, v) for k, v in data.draw(st.permutations(list(schema.items())))}
    assert fold_schema(json.dumps(server)) == fold_schema(schema)
