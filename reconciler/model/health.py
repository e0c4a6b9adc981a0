"""Health: whether a live asset works, beside whether it matches the manifests (sync).

A plan says what apply changes; health says what no apply fixes by itself: an endpoint whose
last config update failed, a Vector Search endpoint that is stopped, an index that went
offline. Adapters read it from the workspace's own state fields and keep the workspace's own
message, as Argo CD shows a resource's health beside its sync status.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class HealthStatus(StrEnum):
    DEGRADED = "degraded"
    """Failed or not serving, and not on its way back: needs someone (drift exits 2)."""
    PROGRESSING = "progressing"
    """On its way: provisioning, starting, deploying a config. Shown, not counted as drift."""


class Health(BaseModel):
    """What an adapter read about one live asset that is not healthy."""

    model_config = ConfigDict(frozen=True)

    status: HealthStatus
    message: str
    """The workspace's own words (state, then message), never a secret value."""


class AssetHealth(BaseModel):
    """A declared asset that exists and is not healthy, as plans and drift reports list it."""

    model_config = ConfigDict(frozen=True)

    address: str
    kind: str
    name: str
    status: HealthStatus
    message: str

    @property
    def degraded(self) -> bool:
        return self.status is HealthStatus.DEGRADED
