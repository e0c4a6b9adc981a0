"""Quotas: the AI Gateway rate limits of one serving endpoint (ours or not), and nothing else
of it. Order is not meaningful, so limits compare by their (key, principal) identity.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set
from enum import StrEnum
from typing import Any, ClassVar, Self

from pydantic import Field, field_validator, model_validator

from reconciler.kinds.base import ENDPOINT_NAME
from reconciler.kinds.diffing import field_diff
from reconciler.kinds.keep_live import KeyOf
from reconciler.kinds.rules import KindRules, ordered, without_defaults
from reconciler.model.changes import Action, FieldDiff
from reconciler.model.live import LiveAsset
from reconciler.model.resources import KindName, address_of
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


AMOUNTS = ("calls_per_minute", "tokens_per_minute")


def canonical_limit(limit: Mapping[str, Any]) -> dict[str, Any]:
    """One limit in manifest terms with an omitted key made ``endpoint`` and amounts as ints."""
    out: dict[str, Any] = {"key": limit.get("key") or RateLimitKey.ENDPOINT.value}
    if limit.get("principal"):
        out["principal"] = limit["principal"]
    for amount in AMOUNTS:
        if limit.get(amount) is not None:
            out[amount] = int(limit[amount])
    return out


def canonical_limits(limits: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    normalized = [canonical_limit(limit) for limit in limits]
    return sorted(normalized, key=lambda r: (r["key"], r.get("principal", ""), sorted(r.items())))


def limit_id(limit: Mapping[str, Any]) -> str:
    return f"{limit['key']}/{limit['principal']}" if limit.get("principal") else str(limit["key"])


class QuotaRules(KindRules):
    kind = KindName.QUOTA
    spec = QuotaSpec
    manifest_key = "quotas"
    noun = "quota for endpoint"
    apply_timeout = 45 * 60.0  # it waits for its serving endpoint to be idle
    name_field = "endpoint"
    folded: ClassVar[Mapping[str, Callable[[Any], Any]]] = {"rate_limits": canonical_limits}
    keyed_lists: ClassVar[Mapping[str, KeyOf]] = {"rate_limits": limit_id}

    def write_scope(self, name: str) -> str:
        """A quota is part of its endpoint's AI Gateway: never written beside an endpoint change."""
        return f"{KindName.SERVING_ENDPOINT.value}.{name}"

    def diff(self, desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[FieldDiff]:
        want = canonical_limits(desired.get("rate_limits") or [])
        have = canonical_limits(live.get("rate_limits") or [])
        if want == have:
            return []
        want_ids, have_ids = [limit_id(w) for w in want], [limit_id(h) for h in have]
        if len(set(want_ids)) < len(want_ids) or len(set(have_ids)) < len(have_ids):
            return [field_diff("rate_limits", have, want)]
        by_want, by_have = (
            dict(zip(want_ids, want, strict=True)),
            dict(zip(have_ids, have, strict=True)),
        )
        diffs = []
        for ident in sorted(set(by_want) | set(by_have)):
            w, h = by_want.get(ident), by_have.get(ident)
            path = f"rate_limits.{ident}"
            if w is None or h is None:
                diffs.append(field_diff(path, h, w))
                continue
            for field in AMOUNTS:
                if w.get(field) != h.get(field):
                    diffs.append(field_diff(f"{path}.{field}", h.get(field), w.get(field)))
        return diffs

    def carried(
        self, write: Mapping[str, Any], live: LiveAsset, diffs: Sequence[FieldDiff], action: Action
    ) -> list[str]:
        """Every write sends the endpoint's whole AI Gateway back with new rate limits."""
        return sorted(live.unmodelled)

    def dependencies(self, name: str, doc: Mapping[str, Any], known: Set[str]) -> list[str]:
        endpoint = address_of(KindName.SERVING_ENDPOINT, str(doc.get("endpoint", name)))
        return [endpoint] if endpoint in known else []

    def requires(self, name: str, doc: Mapping[str, Any]) -> list[str]:
        return [address_of(KindName.SERVING_ENDPOINT, str(doc.get("endpoint", name)))]

    def delete_reason(self, name: str, live: Mapping[str, Any]) -> str:
        return f"removes every rate limit of endpoint {name} (the endpoint itself stays)"

    def import_entry(self, asset: LiveAsset) -> dict[str, Any] | None:
        """None for an endpoint without rate limits: there is no quota to import."""
        if not asset.doc.get("rate_limits"):
            return None
        return ordered(without_defaults(asset.doc, {}), ("endpoint", "rate_limits"))


RULES = (QuotaRules(),)
