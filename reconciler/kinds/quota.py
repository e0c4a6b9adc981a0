"""Quotas: the AI Gateway rate limits of one serving endpoint (ours or not)."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from reconciler.kinds.base import Spec


class RateLimitKey(StrEnum):
    ENDPOINT = "endpoint"
    USER = "user"
    USER_GROUP = "user_group"
    SERVICE_PRINCIPAL = "service_principal"


class RateLimitSpec(Spec):
    key: RateLimitKey = RateLimitKey.ENDPOINT
    principal: str | None = None
    calls_per_minute: int | None = Field(default=None, ge=0)
    tokens_per_minute: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.calls_per_minute is None and self.tokens_per_minute is None:
            raise ValueError("a rate limit needs calls_per_minute or tokens_per_minute")
        if self.key is RateLimitKey.ENDPOINT and self.principal is not None:
            raise ValueError("a rate limit with key 'endpoint' takes no principal")
        if self.key in (RateLimitKey.USER_GROUP, RateLimitKey.SERVICE_PRINCIPAL) and not (
            self.principal
        ):
            raise ValueError(f"a rate limit with key {self.key.value!r} needs a principal")
        return self


class QuotaSpec(Spec):
    """``quotas:`` entry. Address: ``quota.<endpoint>``."""

    endpoint: str
    rate_limits: list[RateLimitSpec] = Field(max_length=20)

    @property
    def name(self) -> str:
        return self.endpoint
