"""After a failed update the endpoint serves its old config: that is what the plan compares."""

from __future__ import annotations

from typing import Any

from reconciler.adapters.databricks.kinds import normalize
from reconciler.model.resources import KindName


def _entity(version: str, state: dict[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": "champion",
        "entity_name": "main.s.m",
        "entity_version": version,
        "scale_to_zero_enabled": True,
        "workload_size": "Small",
    }
    if state:
        out["state"] = state
    return out


def _raw(update: str) -> dict[str, Any]:
    failed = {"deployment": "DEPLOYMENT_FAILED", "deployment_state_message": "no"}
    return {
        "name": "ep",
        "state": {"ready": "READY", "config_update": update},
        "config": {"served_entities": [_entity("1")]},
        "pending_config": {"served_entities": [_entity("2", failed)]},
    }


def test_a_failed_pending_config_is_not_read_as_live() -> None:
    for update in ("UPDATE_FAILED", "UPDATE_CANCELED"):
        doc = normalize(KindName.SERVING_ENDPOINT, _raw(update))
        assert [e["version"] for e in doc["served_entities"]] == [1], update


def test_an_update_in_progress_still_compares_the_pending_config() -> None:
    doc = normalize(KindName.SERVING_ENDPOINT, _raw("IN_PROGRESS"))
    assert [e["version"] for e in doc["served_entities"]] == [2]
