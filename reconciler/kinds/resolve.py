"""Alias resolution and version checks: the lookups kinds make while building desired docs
(the planner's ``DesiredContext``).

``model@alias`` resolves to the version the alias will have after this plan: the manifest's
alias when it declares one, else the live alias. Versions come from training pipelines, so a
version that does not exist or is not READY stops the plan at the manifest line naming it.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

from reconciler.kinds.registered_model import ModelAliasSpec, alias_address
from reconciler.model.errors import PlanError
from reconciler.model.live import LiveState
from reconciler.model.resources import DesiredState, Resource

READY = "READY"


class Resolver:
    """The planner's DesiredContext: pure lookups in desired and live state."""

    def __init__(self, desired: DesiredState, live: LiveState) -> None:
        self.desired = desired
        self.live = live
        self.declared: Set[str] = frozenset(desired.resources)
        self.caller: Mapping[str, str] | None = live.caller

    def _declared_alias(self, model: str, alias: str) -> int | None:
        found = self.desired.resources.get(alias_address(model, alias))
        if found is not None and isinstance(found.spec, ModelAliasSpec):
            return found.spec.version
        return None

    def _live_alias(self, model: str, alias: str) -> int | None:
        asset = self.live.assets.get(alias_address(model, alias))
        if asset is None:
            return None
        version = asset.doc.get("version")
        return int(version) if version is not None else None

    def live_doc(self, resource: Resource) -> Mapping[str, Any] | None:
        asset = self.live.assets.get(resource.address)
        return asset.doc if asset is not None else None

    def alias_version(
        self, resource: Resource, path: str, model: str, alias: str, *, in_place: int | None
    ) -> int:
        version = self._declared_alias(model, alias)
        if version is None:
            version = self._live_alias(model, alias)
        if version is None:
            raise PlanError(
                f"{resource.address}: {model}@{alias} does not resolve: model {model} has no"
                f" alias {alias!r} and no manifest sets one",
                location=self.desired.location_of(resource.address, path),
                hint=f"declare the alias under registered_models ({model}: aliases) or name a"
                " version",
            )
        if version != in_place:
            self.check_version(resource, path, model, version)
        return version

    def check_version(self, resource: Resource, path: str, model: str, version: int) -> None:
        info = self.live.versions.get((model, int(version)))
        where = self.desired.location_of(resource.address, path)
        if info is None:
            raise PlanError(
                f"{resource.address}: version {version} of model {model} does not exist",
                location=where,
                hint="model versions are registered by training pipelines; register it first"
                " (on a sandbox target: reconciler sandbox seed) or name an existing version",
            )
        if info.status != READY:
            raise PlanError(
                f"{resource.address}: version {version} of model {model} is {info.status},"
                " not READY; only READY versions can be served or aliased",
                location=where,
                hint="wait for the registration to finish, or name another version",
            )

    def check_throughput(
        self, resource: Resource, path: str, model: str, version: int, bounds: Mapping[str, int]
    ) -> None:
        info = self.live.optimizations.get((model, int(version)))
        if info is None or not info.optimizable:
            raise PlanError(
                f"{resource.address}: {model} version {version} cannot be served with"
                " provisioned throughput (its optimization info says it is not optimizable)",
                location=self.desired.location_of(resource.address, path),
                hint="serve it with workload_size or provisioned concurrency, or name a model"
                " version that supports provisioned throughput",
            )
        chunk = info.chunk_size or 0
        for field, value in bounds.items():
            if chunk and value % chunk:
                lower, upper = value // chunk * chunk, (value // chunk + 1) * chunk
                choose = f"{lower} or {upper}" if lower else str(upper)
                raise PlanError(
                    f"{resource.address}: {field} {value} is not a multiple of the throughput"
                    f" chunk size of {model} version {version}, which is {chunk} tokens per"
                    " second",
                    location=self.desired.location_of(resource.address, f"{path}.{field}"),
                    hint=f"use a multiple of {chunk}, e.g. {choose}",
                )


class Collector:
    """A DesiredContext that records what the real pass will look up, so the adapter reads
    exactly the aliases and versions the plan needs: run before the live state exists (every
    alias named; every version named, for ``sandbox seed``), then on the live state (only the
    versions that aliases and served entities change to)."""

    def __init__(self, desired: DesiredState, live: LiveState) -> None:
        self.inner = Resolver(desired, live)
        self.declared: Set[str] = self.inner.declared
        self.caller: Mapping[str, str] | None = live.caller
        self.aliases: set[str] = set()
        self.versions: set[tuple[str, int]] = set()
        self.optimizations: set[tuple[str, int]] = set()

    def live_doc(self, resource: Resource) -> Mapping[str, Any] | None:
        return self.inner.live_doc(resource)

    def alias_version(
        self, resource: Resource, path: str, model: str, alias: str, *, in_place: int | None
    ) -> int:
        version = self.inner._declared_alias(model, alias)
        if version is None:
            version = self.inner._live_alias(model, alias)
        if version is None:
            self.aliases.add(alias_address(model, alias))
            return 1
        if version != in_place:
            self.versions.add((model, version))
        return version

    def check_version(self, resource: Resource, path: str, model: str, version: int) -> None:
        self.versions.add((model, int(version)))

    def check_throughput(
        self, resource: Resource, path: str, model: str, version: int, bounds: Mapping[str, int]
    ) -> None:
        self.optimizations.add((model, int(version)))
