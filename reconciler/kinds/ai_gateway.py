"""A serving endpoint's AI Gateway, other than rate limits (those are the ``quota`` kind): usage
tracking, guardrails, inference tables, fallbacks; what the server fills in when unset; and what
a write keeps (``PUT .../ai-gateway`` replaces the whole object, so apply sends the live object
with the manifest's settings over it, field by field)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import Field

from reconciler.model.spec import Spec


class PiiBehavior(StrEnum):
    BLOCK = "BLOCK"
    MASK = "MASK"
    NONE = "NONE"


class GuardrailSpec(Spec):
    safety: bool | None = None
    pii: PiiBehavior | None = None
    invalid_keywords: list[str] | None = None
    valid_topics: list[str] | None = None


class GuardrailsSpec(Spec):
    input: GuardrailSpec | None = None
    output: GuardrailSpec | None = None


class InferenceTablesSpec(Spec):
    enabled: bool = True
    catalog: str
    schema_: str = Field(alias="schema")
    table_name_prefix: str | None = None


class AiGatewaySpec(Spec):
    """AI Gateway settings other than rate limits (those live in ``quotas:``)."""

    usage_tracking: bool | None = None
    """Record usage in the system tables."""
    guardrails: GuardrailsSpec | None = None
    """Input and output guardrails."""
    inference_tables: InferenceTablesSpec | None = None
    """Log requests and responses to a Unity Catalog table."""
    fallbacks: bool | None = None
    """Fall back to the other served entities on errors."""


GATEWAY_DEFAULTS: dict[str, Any] = {
    "ai_gateway.usage_tracking": False,
    "ai_gateway.fallbacks": False,
    "ai_gateway.guardrails": {},
    "ai_gateway.inference_tables": {},
    "ai_gateway.inference_tables.enabled": False,
    **{
        f"ai_gateway.guardrails.{side}.{k}": v
        for side in ("input", "output")
        for k, v in (("safety", False), ("pii", "NONE"), ("invalid_keywords", []))
    },
    **{f"ai_gateway.guardrails.{side}": {} for side in ("input", "output")},
    **{f"ai_gateway.guardrails.{side}.valid_topics": [] for side in ("input", "output")},
}
"""What a live AI Gateway without a setting reads as (the server omits false and empty)."""


def kept_gateway_fields(write: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    """Settings of the live AI Gateway (``ai_gateway.guardrails.input.pii``) a write keeps
    because the manifest leaves them unset, server defaults aside."""
    out: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, Mapping) and value:
            for key, item in value.items():
                walk(item, f"{path}.{key}")
        elif GATEWAY_DEFAULTS.get(path, _UNSET) != value and not _sets(write, path):
            out.append(path)

    walk(live, "ai_gateway")
    return out


_UNSET = object()


def _sets(write: Mapping[str, Any], path: str) -> bool:
    """Whether ``write`` (an ``ai_gateway`` document) sets ``path`` or an object above it."""
    node: Any = write
    for part in path.split(".")[1:]:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
        if not isinstance(node, Mapping):
            return True
    return True
