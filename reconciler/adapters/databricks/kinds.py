"""The Databricks adapter's kind registry: which module maps, reads and writes each kind.

Adding a kind adds its module here; ``tests/kinds/test_coverage.py`` checks that every
kind has a mapping, a reader, a writer and (unless it comes with another kind) a lister.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.adapters.databricks import (
    identity,
    model_alias,
    model_versions,
    quota,
    registered_model,
    serving_endpoint,
    vector_index,
    vector_search_endpoint,
)
from reconciler.adapters.databricks.reading import KindReader, ReadRun
from reconciler.adapters.databricks.writing import KindAdapter
from reconciler.kinds.registry import rules_for
from reconciler.model.errors import WorkspaceError
from reconciler.model.health import Health
from reconciler.model.resources import KindName

KIND_MODULES = (
    registered_model,
    model_alias,
    serving_endpoint,
    quota,
    vector_search_endpoint,
    vector_index,
)
"""Each defines ``ADAPTERS`` (one per kind it holds), and ``READER`` unless another module's
reader reads its kind too (quotas are read with their endpoints)."""

ADAPTERS: dict[KindName, KindAdapter] = {a.kind: a for m in KIND_MODULES for a in m.ADAPTERS}
READERS: tuple[type[KindReader], ...] = (
    model_versions.VersionReader,
    identity.CallerReader,
    *(m.READER for m in KIND_MODULES if hasattr(m, "READER")),
)


def adapter_for(kind: KindName | str) -> KindAdapter:
    found = ADAPTERS.get(KindName(kind))
    if found is None:
        raise WorkspaceError(f"the databricks adapter has no mapping for kind {kind!r}")
    return found


def normalize(kind: KindName, raw: Mapping[str, Any]) -> dict[str, Any]:
    """A live API object in the kind's spec shape, its folded fields in canonical form."""
    return rules_for(kind).fold(adapter_for(kind).normalize(raw))


def unmodelled(kind: KindName, raw: Mapping[str, Any]) -> list[str]:
    """The live object's writable fields the manifests cannot express (``LiveAsset``)."""
    found = adapter_for(kind).unmodelled
    return found(raw) if found is not None else []


def health_of(kind: KindName, raw: Mapping[str, Any]) -> Health | None:
    """A live API object's health, for the kinds that have a state of their own."""
    check = adapter_for(kind).health
    return check(raw) if check is not None else None


def readers(run: ReadRun) -> list[KindReader]:
    return [reader(run) for reader in READERS]
