"""Live documents (already normalized by the kind rules) as manifest entries.

What the server fills in by itself is left out, so an imported file holds only what someone
chose: a default that is written down would be managed from then on, and would read as noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.kinds.serving_endpoint_rules import DEFAULT_WORKLOAD_TYPE
from reconciler.kinds.vector_search_rules import DEFAULT_SUBTYPE
from reconciler.model.resources import KindName

_CONCURRENCY = ("min_provisioned_concurrency", "max_provisioned_concurrency")


def _pruned(value: Any) -> Any:
    """Drop None and empty containers, recursively."""
    if isinstance(value, Mapping):
        out = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != {} and v != []}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def _ordered(doc: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """Keys in the order the manifest documentation uses, unknown keys last."""
    first = {k: doc[k] for k in keys if k in doc}
    return {**first, **{k: v for k, v in doc.items() if k not in first}}


def registered_model(doc: Mapping[str, Any], aliases: Mapping[str, int]) -> dict[str, Any]:
    # ``owner`` defaults to whoever created the model; importing it would pin that person.
    out = {k: doc.get(k) for k in ("name", "comment", "tags")}
    out["aliases"] = dict(sorted(aliases.items()))
    return _ordered(_pruned(out), ("name", "comment", "tags", "aliases"))


def _entity(entity: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(entity)
    out.pop("alias", None)
    if out.get("workload_type") == DEFAULT_WORKLOAD_TYPE:
        del out["workload_type"]
    if out.get("scale_to_zero") is False:
        del out["scale_to_zero"]
    if out.get("workload_size") is not None:
        for key in _CONCURRENCY:  # derived by the server from the workload size
            out.pop(key, None)
    keys = ("name", "entity", "version", "workload_size", "workload_type", *_CONCURRENCY)
    return _ordered(_pruned(out), (*keys, "scale_to_zero"))


def serving_endpoint(doc: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(doc)
    out.pop("permissions", None)
    if out.get("route_optimized") is False:
        del out["route_optimized"]
    entities = [_entity(e) for e in out.get("served_entities") or []]
    out["served_entities"] = entities
    traffic = out.get("traffic") or {}
    if len(entities) == 1 and traffic == {entities[0]["name"]: 100}:
        out.pop("traffic", None)
    gateway = dict(out.get("ai_gateway") or {})
    for flag in ("usage_tracking", "fallbacks"):
        if gateway.get(flag) is False:
            del gateway[flag]
    out["ai_gateway"] = gateway
    keys = ("name", "description", "route_optimized", "budget_policy_id", "served_entities")
    return _ordered(_pruned(out), (*keys, "traffic", "ai_gateway", "tags"))


def vector_search_endpoint(doc: Mapping[str, Any]) -> dict[str, Any]:
    return _ordered(_pruned(dict(doc)), ("name", "type", "budget_policy_id", "tags"))


def vector_index(doc: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(doc)
    if out.get("subtype") == DEFAULT_SUBTYPE:
        del out["subtype"]
    keys = ("name", "endpoint", "primary_key", "subtype", "delta_sync", "direct_access")
    return _ordered(_pruned(out), keys)


def quota(doc: Mapping[str, Any]) -> dict[str, Any] | None:
    """None for an endpoint without rate limits: there is no quota to import."""
    if not doc.get("rate_limits"):
        return None
    return _ordered(_pruned(dict(doc)), ("endpoint", "rate_limits"))


SHAPERS = {
    KindName.SERVING_ENDPOINT: serving_endpoint,
    KindName.VECTOR_SEARCH_ENDPOINT: vector_search_endpoint,
    KindName.VECTOR_INDEX: vector_index,
    KindName.QUOTA: quota,
}
