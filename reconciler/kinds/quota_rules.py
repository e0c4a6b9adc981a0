"""Quotas: the AI Gateway rate limits of one serving endpoint, and nothing else of it.

The API spells a limit ``{calls|tokens, key, principal, renewal_period: minute}``; manifests say
``calls_per_minute``/``tokens_per_minute``. An omitted key means ``endpoint``. Order is not
meaningful, so limits compare by their (key, principal) identity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from typing import Any

from reconciler.kinds.diffing import field_diff
from reconciler.kinds.rules import DesiredContext, KindRules, register
from reconciler.model.changes import FieldDiff
from reconciler.model.resources import KindName, Resource, address_of

DEFAULT_KEY = "endpoint"
_AMOUNTS = (("calls", "calls_per_minute"), ("tokens", "tokens_per_minute"))


def normalize_rate_limit(raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"key": raw.get("key") or DEFAULT_KEY}
    if raw.get("principal"):
        out["principal"] = raw["principal"]
    for api, ours in _AMOUNTS:
        value = raw.get(api, raw.get(ours))
        if value is not None:
            out[ours] = int(value)
    return out


def canonical_limits(limits: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    normalized = [normalize_rate_limit(limit) for limit in limits]
    return sorted(normalized, key=lambda r: (r["key"], r.get("principal", ""), sorted(r.items())))


def limit_id(limit: Mapping[str, Any]) -> str:
    return f"{limit['key']}/{limit['principal']}" if limit.get("principal") else str(limit["key"])


class QuotaRules(KindRules):
    kind = KindName.QUOTA

    def write_scope(self, name: str) -> str:
        """A quota is part of its endpoint's AI Gateway: never written beside an endpoint change."""
        return f"{KindName.SERVING_ENDPOINT.value}.{name}"

    def desired_doc(self, resource: Resource, ctx: DesiredContext) -> dict[str, Any]:
        doc = resource.spec.doc()
        doc["rate_limits"] = canonical_limits(doc.get("rate_limits") or [])
        return doc

    def normalize(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """``raw`` is the serving endpoint the quota belongs to."""
        gateway = raw.get("ai_gateway") or {}
        return {
            "endpoint": raw.get("name"),
            "rate_limits": canonical_limits(gateway.get("rate_limits") or []),
        }

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
            for _, field in _AMOUNTS:
                if w.get(field) != h.get(field):
                    diffs.append(field_diff(f"{path}.{field}", h.get(field), w.get(field)))
        return diffs

    def dependencies(self, name: str, doc: Mapping[str, Any], known: Set[str]) -> list[str]:
        endpoint = address_of(KindName.SERVING_ENDPOINT, str(doc.get("endpoint", name)))
        return [endpoint] if endpoint in known else []

    def requires(self, name: str, doc: Mapping[str, Any]) -> list[str]:
        return [address_of(KindName.SERVING_ENDPOINT, str(doc.get("endpoint", name)))]

    def delete_reason(self, name: str, live: Mapping[str, Any]) -> str:
        return f"removes every rate limit of endpoint {name} (the endpoint itself stays)"


register(QuotaRules())
