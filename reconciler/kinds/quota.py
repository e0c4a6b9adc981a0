"""Quotas: the AI Gateway rate limits of one serving endpoint (ours or not)."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, field_validator, model_validator

from reconciler.kinds.base import ENDPOINT_NAME
from reconciler.model.spec import FieldError, Spec

MAX_RATE_LIMITS = 20
MAX_GROUP_RATE_LIMITS = 5


class RateLimitKey(StrEnum):
    ENDPOINT = "endpoint"
    USER = "user"
    USER_GROUP = "user_group"
    SERVICE_PRINCIPAL = "service_principal"


class RateLimitSpec(Spec):
    key: RateLimitKey = RateLimitKey.ENDPOINT
    """Who the limit applies to: the whole endpoint, each user, a group, a service principal."""
    principal: str | None = None
    """User email, group name or service principal application id (not with key endpoint)."""
    calls_per_minute: int | None = Field(default=None, ge=0)
    """Queries per minute."""
    tokens_per_minute: int | None = Field(default=None, ge=0)
    """Tokens per minute."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.calls_per_minute is None and self.tokens_per_minute is None:
            raise ValueError("a rate limit needs calls_per_minute or tokens_per_minute")
        if self.key is RateLimitKey.ENDPOINT and self.principal is not None:
            raise FieldError(
                "a rate limit with key 'endpoint' applies to the whole endpoint and takes no"
                " principal",
                at=("principal",),
            )
        if self.key in (RateLimitKey.USER_GROUP, RateLimitKey.SERVICE_PRINCIPAL) and not (
            self.principal
        ):
            raise ValueError(f"a rate limit with key {self.key.value!r} needs a principal")
        return self


class QuotaSpec(Spec):
    """``quotas:`` entry. Address: ``quota.<endpoint>``."""

    endpoint: str
    """Serving endpoint name, ours or not (e.g. a pay-per-token foundation model endpoint)."""
    rate_limits: list[RateLimitSpec] = Field(max_length=MAX_RATE_LIMITS)
    """At most 20, of which at most 5 for user groups."""

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        if not ENDPOINT_NAME.match(value):
            raise ValueError(f"endpoint name {value!r}: use letters, digits, '-' and '_'")
        return value

    @model_validator(mode="after")
    def _unique(self) -> Self:
        seen: set[tuple[RateLimitKey, str | None]] = set()
        groups = 0
        for index, limit in enumerate(self.rate_limits):
            ident = (limit.key, limit.principal)
            if ident in seen:
                who = f" for {limit.principal!r}" if limit.principal else ""
                raise FieldError(
                    f"quota {self.endpoint!r}: a second {limit.key.value!r} rate limit{who};"
                    " put calls_per_minute and tokens_per_minute in one entry",
                    at=("rate_limits", index),
                )
            seen.add(ident)
            if limit.key is RateLimitKey.USER_GROUP:
                groups += 1
                if groups > MAX_GROUP_RATE_LIMITS:
                    raise FieldError(
                        f"quota {self.endpoint!r}: more than {MAX_GROUP_RATE_LIMITS} group rate"
                        " limits; AI Gateway allows at most 5 per endpoint",
                        at=("rate_limits", index),
                    )
        return self

    @property
    def name(self) -> str:
        return self.endpoint
