"""The one place kinds plug in: every kind's rules, in ``KindName`` order.

The planner, executor, manifest checks, importer and renderers look kinds up here and never
name one. Adding a kind adds its module to ``KIND_MODULES``; the order of that tuple is the
order of the top-level lists in a manifest file.
"""

from __future__ import annotations

from reconciler.kinds import quota, registered_model, serving_endpoint, vector_search
from reconciler.kinds.rules import KindRules
from reconciler.model.resources import KindName

KIND_MODULES = (registered_model, serving_endpoint, vector_search, quota)
"""Each defines ``RULES``, the rules of the kinds it holds."""

_REGISTRY: dict[KindName, KindRules] = {r.kind: r for m in KIND_MODULES for r in m.RULES}
_MANIFEST_ORDER = tuple(r for m in KIND_MODULES for r in m.RULES if r.manifest_key is not None)


def rules_for(kind: KindName | str) -> KindRules:
    key = KindName(kind)
    try:
        return _REGISTRY[key]
    except KeyError:
        raise LookupError(f"no rules registered for kind {key.value!r}") from None


def all_rules() -> dict[KindName, KindRules]:
    """The rules of every kind, in ``KindName`` order."""
    return {k: _REGISTRY[k] for k in KindName if k in _REGISTRY}


def manifest_kinds() -> tuple[KindRules, ...]:
    """Kinds written as top-level manifest lists, in the order a manifest file lists them."""
    return _MANIFEST_ORDER


def importable_kinds() -> tuple[KindName, ...]:
    """Kinds ``import`` can write on their own (others come with them), in manifest order."""
    return tuple(r.kind for r in _MANIFEST_ORDER)


def registry_kinds() -> frozenset[KindName]:
    """Kinds any MLflow model registry holds (the rest need a Databricks workspace)."""
    return frozenset(k for k, r in _REGISTRY.items() if r.registry_kind)
