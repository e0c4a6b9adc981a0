"""Desired state: the typed assets the manifests declare for one target."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from reconciler.errors import Location
from reconciler.kinds.base import Spec


class KindName(StrEnum):
    """Address prefixes. Order here is the order kinds are shown in output."""

    REGISTERED_MODEL = "registered_model"
    MODEL_ALIAS = "model_alias"
    VECTOR_SEARCH_ENDPOINT = "vector_search_endpoint"
    VECTOR_INDEX = "vector_index"
    SERVING_ENDPOINT = "serving_endpoint"
    QUOTA = "quota"


def address_of(kind: str, name: str) -> str:
    return f"{kind}.{name}"


@dataclass(frozen=True, slots=True)
class Resource:
    """One declared asset: its kind, its name (the API id), its spec and where it was written."""

    kind: KindName
    name: str
    spec: Spec
    location: Location | None = None

    @property
    def address(self) -> str:
        return address_of(self.kind, self.name)


@dataclass(frozen=True)
class DesiredState:
    """Everything the manifests declare for one target, keyed by address, after interpolation."""

    project: str
    target: str
    resources: Mapping[str, Resource] = field(default_factory=dict)

    def of_kind(self, kind: KindName) -> list[Resource]:
        return [r for r in self.resources.values() if r.kind == kind]
