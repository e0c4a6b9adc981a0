"""Plans list the declared assets that exist and are not healthy, beside the changes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from reconciler.model.health import Health, HealthStatus
from reconciler.model.resources import KindName
from reconciler.plan.planner import build_plan

from .helpers import desired_state, live_asset, live_state

VSE = KindName.VECTOR_SEARCH_ENDPOINT


def test_declared_unhealthy_assets_are_listed_undeclared_ones_are_not(tmp_path: Path) -> None:
    desired, target = desired_state(
        tmp_path,
        {"vector_search_endpoints": [{"name": "vs"}, {"name": "shared", "external": True}]},
    )
    stopped = Health(status=HealthStatus.DEGRADED, message="STOPPED: Endpoint is stopped.")
    raw = {"endpoint_type": "STANDARD"}
    live = live_state(
        replace(live_asset(VSE, "vs", {"name": "vs", **raw}), health=stopped),
        replace(live_asset(VSE, "shared", {"name": "shared", **raw}, None), health=stopped),
        replace(live_asset(VSE, "other", {"name": "other", **raw}), health=stopped),
    )
    plan = build_plan(desired, live, target)
    assert plan.empty
    assert [(h.address, h.status, h.message) for h in plan.health] == [
        ("vector_search_endpoint.shared", HealthStatus.DEGRADED, "STOPPED: Endpoint is stopped."),
        ("vector_search_endpoint.vs", HealthStatus.DEGRADED, "STOPPED: Endpoint is stopped."),
    ]


def test_health_messages_mask_secret_references(tmp_path: Path) -> None:
    desired, target = desired_state(tmp_path, {"vector_search_endpoints": [{"name": "vs"}]})
    bad = Health(status=HealthStatus.DEGRADED, message="cannot read {{secrets/s/k}}")
    asset = replace(live_asset(VSE, "vs", {"name": "vs", "endpoint_type": "STANDARD"}), health=bad)
    (item,) = build_plan(desired, live_state(asset), target).health
    assert "secrets/" not in item.message and "(secret " in item.message
