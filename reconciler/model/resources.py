"""Desired state: the typed assets the manifests declare for one target."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from reconciler.model.digest import ManifestDigest
from reconciler.model.errors import Location
from reconciler.model.spec import Spec


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
    positions: Mapping[str, Mapping[str, Location]] = field(default_factory=dict)
    """Per address, where each field was written: dotted paths relative to the asset as in
    plan diffs (``""`` is the asset itself, ``"served_entities.0.entity"``, ``"tags.team"``)."""
    files: tuple[str, ...] = ()
    """The manifest files read, as shown in messages."""
    manifests: ManifestDigest | None = None
    """The bytes the desired state was read from (the project file and the manifests)."""

    def of_kind(self, kind: KindName) -> list[Resource]:
        return [r for r in self.resources.values() if r.kind == kind]

    def location_of(self, address: str, path: str = "") -> Location | None:
        """Where a field of an asset was written, for errors found after loading.

        ``path`` is dotted (``"served_entities.1.entity"``); when that exact field was not
        written (a default, or a list index beyond the manifest), the nearest written
        ancestor is used, down to the asset itself. None for an unknown address.
        """
        table = self.positions.get(address)
        if not table:
            resource = self.resources.get(address)
            return resource.location if resource is not None else None
        parts = path.split(".") if path else []
        while parts:
            found = table.get(".".join(parts))
            if found is not None:
                return found
            parts.pop()
        return table.get("") or self.resources[address].location
