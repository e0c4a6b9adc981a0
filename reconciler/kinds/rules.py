"""Per-kind behaviour the planner plugs in: the engine knows no kind by name.

Each kind says how a live API object folds into its spec shape (``normalize``), how a manifest
entry becomes the document apply sends (``desired_doc``), which differences matter (``diff``),
which fields cannot change in place (``immutable``), and what it depends on.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence, Set
from typing import Any, ClassVar, Protocol

from reconciler.model.changes import FieldDiff
from reconciler.model.live import ExtraRead
from reconciler.model.resources import KindName, Resource


class DesiredContext(Protocol):
    """What a kind may ask the planner while building a desired document (all pure lookups)."""

    declared: Set[str]
    """Addresses the manifests declare."""

    def alias_version(self, resource: Resource, path: str, model: str, alias: str) -> int:
        """The version ``model@alias`` will point to after this plan; PlanError if none."""
        ...

    def check_version(self, resource: Resource, path: str, model: str, version: int) -> None:
        """PlanError at the manifest location when the version is missing or not READY."""
        ...


class KindRules(ABC):
    kind: ClassVar[KindName]
    immutable: ClassVar[tuple[str, ...]] = ()
    """Dotted path prefixes whose change needs a delete and a recreate."""
    delete_needs_prune: ClassVar[bool] = False
    """Deleting takes what no apply can bring back (a model's versions): prune targets only."""

    def write_scope(self, name: str) -> str:
        """Changes in one scope run one after the other: one write at a time per live object."""
        return f"{self.kind.value}.{name}"

    def desired_doc(self, resource: Resource, ctx: DesiredContext) -> dict[str, Any]:
        """The document apply sends and the diff compares; defaults to the manifest fields."""
        return resource.spec.doc()

    @abstractmethod
    def normalize(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Fold a live API object (``as_dict()`` shape) into the spec document shape."""

    def diff(self, desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[FieldDiff]:
        from reconciler.kinds.diffing import diff_managed

        return diff_managed(desired, live)

    def dependencies(self, name: str, doc: Mapping[str, Any], known: Set[str]) -> list[str]:
        """Addresses (among ``known``) this asset needs to exist first."""
        return []

    def requires(self, name: str, doc: Mapping[str, Any]) -> list[str]:
        """Addresses that must exist (live or declared) for this asset to be created."""
        return []

    def extra_reads(self, doc: Mapping[str, Any]) -> frozenset[ExtraRead]:
        """Optional reads this asset's desired document needs beyond the asset itself."""
        return frozenset()

    def is_external(self, resource: Resource) -> bool:
        """Declared only to be referenced; managed elsewhere, never changed by this project."""
        return False

    def creation_diffs(self, doc: Mapping[str, Any]) -> list[FieldDiff]:
        """What a create sets, one line per top-level field."""
        from reconciler.kinds.diffing import creation_diffs

        return creation_diffs(doc)

    def needs_replace(self, diffs: Sequence[FieldDiff]) -> list[FieldDiff]:
        return [d for d in diffs if _under(d.path, self.immutable)]

    def replace_reason(self, name: str, immutable: Sequence[FieldDiff]) -> str:
        fields = ", ".join(sorted({d.path for d in immutable}))
        return f"{fields} cannot change in place; the {self.kind.value} is deleted and recreated"

    def delete_reason(self, name: str, live: Mapping[str, Any]) -> str:
        """Why the delete, and what it takes with it; ``live`` is the raw API object."""
        return f"{self.kind.value} {name} left the manifests and is owned by this project"


def _under(path: str, prefixes: Sequence[str]) -> bool:
    return any(path == p or path.startswith(p + ".") for p in prefixes)


_REGISTRY: dict[KindName, KindRules] = {}
_RULE_MODULES = ("registered_model", "serving_endpoint", "quota", "vector_search")
"""Every ``reconciler.kinds.<module>_rules`` module; each registers its kinds on import."""
_loaded = False


def register(rules: KindRules) -> KindRules:
    _REGISTRY[rules.kind] = rules
    return rules


def rules_for(kind: KindName | str) -> KindRules:
    """The rules of ``kind``. The first call imports every rules module, whatever was imported
    before, so the registry never depends on which module happened to be loaded first."""
    key = KindName(kind)
    if not _loaded:
        _load()
    try:
        return _REGISTRY[key]
    except KeyError:
        raise LookupError(f"no rules registered for kind {key.value!r}") from None


def all_rules() -> dict[KindName, KindRules]:
    """The rules of every kind, in ``KindName`` order."""
    if not _loaded:
        _load()
    return {k: _REGISTRY[k] for k in KindName if k in _REGISTRY}


def _load() -> None:
    global _loaded
    for module in _RULE_MODULES:
        importlib.import_module(f"reconciler.kinds.{module}_rules")
    _loaded = True
