"""Health read from the workspace's own state fields, with its own message (the shapes are the
API's: serving ``state`` and served entity ``state.deployment``; Vector Search
``endpoint_status``; index ``status.ready``/``detailed_state``/``message``)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.adapters.databricks.kinds import health_of
from reconciler.adapters.databricks.serving_state import endpoint_health
from reconciler.adapters.databricks.vector_index import index_health
from reconciler.adapters.databricks.vector_search_endpoint import vs_endpoint_health
from reconciler.model.health import HealthStatus
from reconciler.model.resources import KindName

DEGRADED, PROGRESSING = HealthStatus.DEGRADED, HealthStatus.PROGRESSING


def _endpoint(ready: str, update: str, deployment: str = "DEPLOYMENT_READY", **extra: Any) -> dict:  # type: ignore[type-arg]
    entity = {"name": "champion", "state": {"deployment": deployment, **extra}}
    return {
        "state": {"ready": ready, "config_update": update},
        "config": {"served_entities": [entity]},
    }


def test_failed_update_is_degraded_with_the_entity_message_even_while_old_config_serves() -> None:
    raw = _endpoint("READY", "UPDATE_FAILED")
    raw["pending_config"] = {
        "served_entities": [
            {
                "name": "champion",
                "state": {
                    "deployment": "DEPLOYMENT_FAILED",
                    "deployment_state_message": "Model version m version 2 is FAILED_REGISTRATION.",
                },
            }
        ]
    }
    health = endpoint_health(raw)
    assert health is not None and health.status is DEGRADED
    assert health.message == (
        "config update ended UPDATE_FAILED: champion: Model version m version 2 is"
        " FAILED_REGISTRATION."
    )
    cancelled = endpoint_health(_endpoint("READY", "UPDATE_CANCELED"))
    assert cancelled is not None and cancelled.status is DEGRADED


@pytest.mark.parametrize(
    ("raw", "status", "message"),
    [
        (_endpoint("READY", "NOT_UPDATING"), None, None),
        ({"name": "no-state"}, None, None),
        (_endpoint("READY", "IN_PROGRESS"), PROGRESSING, "config update IN_PROGRESS"),
        (
            _endpoint("NOT_READY", "NOT_UPDATING", "DEPLOYMENT_CREATING"),
            PROGRESSING,
            "NOT_READY: champion: DEPLOYMENT_CREATING",
        ),
        (
            _endpoint(
                "NOT_READY", "NOT_UPDATING", "DEPLOYMENT_FAILED", deployment_state_message="OOM"
            ),
            DEGRADED,
            "champion: DEPLOYMENT_FAILED (OOM)",
        ),
        (
            _endpoint("NOT_READY", "NOT_UPDATING", "DEPLOYMENT_ABORTED"),
            DEGRADED,
            "NOT_READY: champion: DEPLOYMENT_ABORTED",
        ),
    ],
)
def test_serving_endpoint_states(
    raw: dict, status: HealthStatus | None, message: str | None
) -> None:  # type: ignore[type-arg]
    health = endpoint_health(raw)
    assert (health.status, health.message) == (status, message) if health else status is None


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("ONLINE", None),
        ("PROVISIONING", PROGRESSING),
        ("STARTING", PROGRESSING),
        ("OFFLINE", DEGRADED),
        ("STOPPED", DEGRADED),
        ("STOPPING", DEGRADED),
        ("RED_STATE", DEGRADED),
    ],
)
def test_vector_search_endpoint_states(state: str, status: HealthStatus | None) -> None:
    health = vs_endpoint_health({"endpoint_status": {"state": state, "message": "says why"}})
    if status is None:
        assert health is None
    else:
        assert health is not None and health.status is status
        assert health.message == f"{state}: says why"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"ready": True, "detailed_state": "ONLINE_NO_PENDING_UPDATE"}, None),
        ({"ready": True}, None),
        (
            {
                "ready": False,
                "detailed_state": "OFFLINE",
                "message": "Endpoint vs is not available.",
            },
            (DEGRADED, "OFFLINE: Endpoint vs is not available."),
        ),
        (
            {"ready": False, "detailed_state": "OFFLINE_FAILED", "message": "pipeline failed"},
            (DEGRADED, "OFFLINE_FAILED: pipeline failed"),
        ),
        (
            {"ready": True, "detailed_state": "ONLINE_PIPELINE_FAILED", "message": "sync failed"},
            (DEGRADED, "ONLINE_PIPELINE_FAILED: sync failed"),
        ),
        (
            {
                "ready": False,
                "detailed_state": "PROVISIONING_INITIAL_SNAPSHOT",
                "message": "pending",
            },
            (PROGRESSING, "PROVISIONING_INITIAL_SNAPSHOT: pending"),
        ),
        (
            {"ready": False, "message": "creation is pending"},
            (PROGRESSING, "NOT_READY: creation is pending"),
        ),
    ],
)
def test_index_states(status: dict, expected: tuple[HealthStatus, str] | None) -> None:  # type: ignore[type-arg]
    health = index_health({"status": status})
    assert (None if health is None else (health.status, health.message)) == expected


def test_kinds_without_a_state_have_no_health() -> None:
    raw = _endpoint("NOT_READY", "UPDATE_FAILED")
    assert health_of(KindName.QUOTA, raw) is None, "a quota's endpoint reports its own health"
    assert health_of(KindName.REGISTERED_MODEL, {"full_name": "a.b.c"}) is None
    assert health_of(KindName.SERVING_ENDPOINT, raw) is not None
