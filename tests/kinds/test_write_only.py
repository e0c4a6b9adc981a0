"""Fields the API never returns (write-only rules) are sent and never compared, wherever they
sit: a plan after apply is empty whether or not the API echoes them, with the same value or
another (a masked credential, a policy set elsewhere). Each case both ways, on the kinds' own
rules; the end-to-end half is tests/e2e/test_recorded_behaviour_e2e.py."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.kinds.registry import rules_for
from reconciler.kinds.write_only import matches, without_write_only
from reconciler.model.resources import KindName

SERVING = rules_for(KindName.SERVING_ENDPOINT)
VS = rules_for(KindName.VECTOR_SEARCH_ENDPOINT)


def endpoint(**extra: Any) -> dict[str, Any]:
    entity = {"name": "champion", "entity": "main.s.m", "version": 1, "workload_size": "Small"}
    entity.update(extra.pop("entity", {}))
    return {"name": "ep", "served_entities": [entity], "traffic": {"champion": 100}, **extra}


def paths(desired: dict[str, Any], live: dict[str, Any]) -> list[str]:
    return [d.path for d in SERVING.field_diffs(SERVING.fold(desired), SERVING.fold(live))]


@pytest.mark.parametrize("echo", [None, "bp-1", "bp-0"])
def test_serving_budget_policy_id_never_returned_is_compared_only_at_creation(
    echo: str | None,
) -> None:
    live = endpoint() if echo is None else endpoint(budget_policy_id=echo)
    assert paths(endpoint(budget_policy_id="bp-1"), live) == []
    created = SERVING.creation_diffs(endpoint(budget_policy_id="bp-1"))
    assert "budget_policy_id" in [d.path for d in created]  # a create sends and shows it


@pytest.mark.parametrize("echo", [None, "bp-1", "bp-0"])
def test_vector_search_budget_policy_id_is_never_an_update(echo: str | None) -> None:
    desired = {"name": "vs", "type": "STANDARD", "budget_policy_id": "bp-1"}
    live: dict[str, Any] = {"name": "vs", "type": "STANDARD", "tags": {}}
    if echo is not None:
        live["budget_policy_id"] = echo
    assert VS.field_diffs(desired, live) == []


@pytest.mark.parametrize("echo", [None, True, False])
def test_burst_scaling_enabled_not_returned_is_never_compared(echo: bool | None) -> None:
    live = endpoint() if echo is None else endpoint(entity={"burst_scaling_enabled": echo})
    assert paths(endpoint(entity={"burst_scaling_enabled": True}), live) == []


MODEL = {
    "name": "gpt",
    "provider": "custom",
    "custom_provider_config": {
        "custom_provider_url": "https://llm.example.com",
        "api_key_auth": {"key": "Authorization", "value_plaintext": "s3cret"},
    },
}


def with_credential(value: str | None, url: str = "https://llm.example.com") -> dict[str, Any]:
    auth: dict[str, Any] = {"key": "Authorization"}
    if value is not None:
        auth["value_plaintext"] = value
    config = {"custom_provider_url": url, "api_key_auth": auth}
    return {**MODEL, "custom_provider_config": config}


@pytest.mark.parametrize("echo", [None, "s3cret", "*****"])
def test_plaintext_credentials_never_returned_are_never_compared(echo: str | None) -> None:
    """However deep the provider block nests them (a custom provider's api_key_auth), inside
    a value compared whole."""
    desired = endpoint(entity={"external_model": MODEL})
    live = endpoint(entity={"external_model": with_credential(echo)})
    assert paths(desired, live) == []


def test_a_field_beside_a_plaintext_credential_is_still_compared() -> None:
    desired = endpoint(entity={"external_model": MODEL})
    moved = endpoint(entity={"external_model": with_credential(None, "https://elsewhere.io")})
    assert paths(desired, moved) == ["served_entities.champion.external_model"]


def test_telemetry_table_names_are_input_only() -> None:
    telemetry = {"enabled_telemetry_features": ["TELEMETRY_FEATURE_LOGS"]}
    desired = {"telemetry_config": {**telemetry, "table_names": {"logs_table": "c.s.logs"}}}
    assert without_write_only(desired, SERVING.write_only) == {"telemetry_config": telemetry}


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
