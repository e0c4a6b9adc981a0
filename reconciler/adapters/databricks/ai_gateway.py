"""A serving endpoint's AI Gateway on the wire, both ways: ``AiGatewayConfig`` into the manifest's
``ai_gateway`` (without rate limits: those are the ``quota`` kind) and back.

``PUT .../ai-gateway`` replaces the whole object, so a write sends live with the manifest's
settings over it, field by field (``merged_gateway``): what the manifest leaves unset, what it
cannot express, and the rate limits quotas own all keep their live values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Doc = dict[str, Any]
_TABLE = (("catalog_name", "catalog"), ("schema_name", "schema"))
_GUARDRAIL_FLAGS = ("safety", "invalid_keywords", "valid_topics")
_GUARDRAIL = {
    "safety": True,
    "pii": {"behavior": True},
    "invalid_keywords": True,
    "valid_topics": True,
}
MODELLED: Doc = {
    "usage_tracking_config": {"enabled": True},
    "fallback_config": {"enabled": True},
    "guardrails": {"input": _GUARDRAIL, "output": _GUARDRAIL},
    "inference_table_config": {
        "enabled": True,
        "catalog_name": True,
        "schema_name": True,
        "table_name_prefix": True,
    },
    "rate_limits": True,
}
"""The wire fields of ``AiGatewayConfig`` the manifests express (rate limits: in quotas)."""


def normalize_gateway(raw: Mapping[str, Any] | None) -> Doc:
    """``AiGatewayConfig`` without rate limits, in manifest terms."""
    raw = raw or {}
    out: Doc = {}
    if raw.get("usage_tracking_config") is not None:
        out["usage_tracking"] = bool(raw["usage_tracking_config"].get("enabled"))
    guardrails = raw.get("guardrails") or {}
    sides: Doc = {}
    for side in ("input", "output"):
        g = guardrails.get(side)
        if not g:
            continue
        doc: Doc = {}
        if g.get("safety") is not None:
            doc["safety"] = bool(g["safety"])
        if g.get("pii"):
            doc["pii"] = g["pii"].get("behavior", "NONE")
        for key in ("invalid_keywords", "valid_topics"):
            if g.get(key):
                doc[key] = list(g[key])
        sides[side] = doc
    if sides:
        out["guardrails"] = sides
    table = raw.get("inference_table_config")
    if table:
        doc = {"enabled": bool(table.get("enabled"))}
        for api, ours in _TABLE:
            if table.get(api):
                doc[ours] = table[api]
        if table.get("table_name_prefix"):
            doc["table_name_prefix"] = table["table_name_prefix"]
        out["inference_tables"] = doc
    if raw.get("fallback_config") is not None:
        out["fallbacks"] = bool(raw["fallback_config"].get("enabled"))
    return out


def gateway_patch(spec: Mapping[str, Any]) -> Doc:
    """The AI Gateway sub-configs a manifest sets, in API terms (``normalize_gateway``'s
    inverse)."""
    out: Doc = {}
    if "usage_tracking" in spec:
        out["usage_tracking_config"] = {"enabled": bool(spec["usage_tracking"])}
    if "fallbacks" in spec:
        out["fallback_config"] = {"enabled": bool(spec["fallbacks"])}
    if "guardrails" in spec:
        sides: Doc = {}
        for side, g in (spec["guardrails"] or {}).items():
            if g is None:
                continue
            params: Doc = {k: g[k] for k in _GUARDRAIL_FLAGS if k in g}
            if g.get("pii") is not None:
                params["pii"] = {"behavior": g["pii"]}
            sides[side] = params
        out["guardrails"] = sides
    if "inference_tables" in spec:
        t = spec["inference_tables"] or {}
        table: Doc = {"enabled": bool(t.get("enabled", True))}
        for api, ours in _TABLE:
            if t.get(ours):
                table[api] = t[ours]
        if t.get("table_name_prefix"):
            table["table_name_prefix"] = t["table_name_prefix"]
        out["inference_table_config"] = table
    return out


def merged_gateway(live: Mapping[str, Any] | None, spec: Mapping[str, Any] | None) -> Doc:
    """The whole AI Gateway object to PUT: live, with the manifest's settings over it, field by
    field (lists whole). Rate limits always come from live: the ``quota`` kind owns them."""
    return _merged(live or {}, gateway_patch(spec or {}))


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> Doc:
    out: Doc = dict(base)
    for key, value in over.items():
        below = out.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            out[key] = _merged(below, value)
        else:
            out[key] = value
    return out


def unmodelled_gateway_fields(raw: Mapping[str, Any] | None) -> list[str]:
    """``ai_gateway.<field>`` of every live AI Gateway field the manifests cannot express."""
    out: list[str] = []

    def walk(value: Mapping[str, Any], shape: Mapping[str, Any], path: str) -> None:
        for key, item in value.items():
            sub = shape.get(key)
            if sub is None:
                if item not in (None, {}, []):
                    out.append(f"{path}.{key}")
            elif isinstance(sub, Mapping) and isinstance(item, Mapping):
                walk(item, sub, f"{path}.{key}")

    walk(raw or {}, MODELLED, "ai_gateway")
    return sorted(out)
