"""Fields the API never (or not always) returns are compared only where the live object has
them: a plan after apply is empty whether or not the API echoes them, and an echoed value
that differs is still a change (each case both ways, on the kinds' own rules)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.kinds.registry import rules_for
from reconciler.kinds.write_only import matches, without_unreturned
from reconciler.model.resources import KindName

SERVING = rules_for(KindName.SERVING_ENDPOINT)
VS = rules_for(KindName.VECTOR_SEARCH_ENDPOINT)


def endpoint(**extra: Any) -> dict[str, Any]:
    entity = {"name": "champion", "entity": "main.s.m", "version": 1, "workload_size": "Small"}
    entity.update(extra.pop("entity", {}))
    return {"name": "ep", "served_entities": [entity], "traffic": {"champion": 100}, **extra}


def paths(desired: dict[str, Any], live: dict[str, Any]) -> list[str]:
    return [d.path for d in SERVING.field_diffs(SERVING.fold(desired), SERVING.fold(live))]


def test_serving_budget_policy_id_never_returned_is_compared_only_when_returned() -> None:
    desired = endpoint(budget_policy_id="bp-1")
    assert paths(desired, endpoint()) == []  # never returned: nothing to compare
    assert paths(desired, endpoint(budget_policy_id="bp-1")) == []  # echoed: equal
    changed = SERVING.field_diffs(desired, endpoint(budget_policy_id="bp-0"))
    assert [d.path for d in changed] == ["budget_policy_id"]
    assert SERVING.needs_replace(changed)  # no update API: only a create sets it


def test_vector_search_budget_policy_id_is_compared_only_when_returned_and_is_an_update() -> None:
    desired = {"name": "vs", "type": "STANDARD", "budget_policy_id": "bp-1"}
    live = {"name": "vs", "type": "STANDARD"}
    assert VS.field_diffs(desired, live) == []
    assert VS.field_diffs(desired, {**live, "budget_policy_id": "bp-1"}) == []
    changed = VS.field_diffs(desired, {**live, "budget_policy_id": "bp-0"})
    assert [d.path for d in changed] == ["budget_policy_id"]
    assert not VS.needs_replace(changed)  # PATCH .../budget-policy changes it in place


def test_burst_scaling_enabled_not_returned_is_compared_only_when_returned() -> None:
    desired = endpoint(entity={"burst_scaling_enabled": True})
    assert paths(desired, endpoint()) == []
    assert paths(desired, endpoint(entity={"burst_scaling_enabled": True})) == []
    assert paths(desired, endpoint(entity={"burst_scaling_enabled": False})) == [
        "served_entities.champion.burst_scaling_enabled"
    ]


def test_plaintext_credentials_never_returned_are_compared_only_when_returned() -> None:
    """However deep the provider block nests them (a custom provider's api_key_auth)."""
    model = {
        "name": "gpt",
        "provider": "custom",
        "custom_provider_config": {
            "custom_provider_url": "https://llm.example.com",
            "api_key_auth": {"key": "Authorization", "value_plaintext": "s3cret"},
        },
    }
    returned = {
        **model,
        "custom_provider_config": {
            "custom_provider_url": "https://llm.example.com",
            "api_key_auth": {"key": "Authorization"},
        },
    }
    desired = endpoint(entity={"external_model": model})
    assert paths(desired, endpoint(entity={"external_model": returned})) == []
    assert paths(desired, endpoint(entity={"external_model": model})) == []
    other = {**model, "custom_provider_config": {**returned["custom_provider_config"]}}
    other["custom_provider_config"]["api_key_auth"] = {
        "key": "Authorization",
        "value_plaintext": "x",
    }
    assert paths(desired, endpoint(entity={"external_model": other})) == [
        "served_entities.champion.external_model"
    ]
    # A field next to the credential is still compared.
    moved = {**returned, "custom_provider_config": {**returned["custom_provider_config"]}}
    moved["custom_provider_config"]["custom_provider_url"] = "https://elsewhere.example.com"
    assert paths(desired, endpoint(entity={"external_model": moved})) != []


def test_telemetry_table_names_are_input_only() -> None:
    telemetry = {"enabled_telemetry_features": ["TELEMETRY_FEATURE_LOGS"]}
    desired = {"telemetry_config": {**telemetry, "table_names": {"logs_table": "c.s.logs"}}}
    live = {"telemetry_config": telemetry}
    assert without_unreturned(desired, live, SERVING.write_only) == live


def test_a_new_item_keeps_its_write_only_fields_in_view() -> None:
    """An entity the endpoint does not have yet is compared (and shown) whole."""
    desired = endpoint(entity={"burst_scaling_enabled": True})
    live = {**endpoint(), "served_entities": []}
    stripped = without_unreturned(desired, live, SERVING.write_only)
    assert stripped["served_entities"][0]["burst_scaling_enabled"] is True


@pytest.mark.parametrize(
    ("path", "pattern", "hit"),
    [
        ("budget_policy_id", "budget_policy_id", True),
        (
            "served_entities.champion.burst_scaling_enabled",
            "served_entities.*.burst_scaling_enabled",
            True,
        ),
        (
            "served_entities.champion.workload_size",
            "served_entities.*.burst_scaling_enabled",
            False,
        ),
        (
            "served_entities.a.external_model.openai_config.openai_api_key_plaintext",
            "served_entities.*.external_model.**.*_plaintext",
            True,
        ),
        (
            "served_entities.a.external_model.openai_config.openai_api_key",
            "served_entities.*.external_model.**.*_plaintext",
            False,
        ),
        ("telemetry_config.table_names.logs_table", "telemetry_config.table_names", True),
    ],
)
def test_write_only_patterns(path: str, pattern: str, hit: bool) -> None:
    assert matches(path, [pattern]) is hit
