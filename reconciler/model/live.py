"""The boundary between the pure core and a live system (Databricks, the sandbox, MLflow).

Adapters read live assets already folded into the spec shape (``LiveAsset.doc``) so the diff
compares like with like, and execute one planned change at a time.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from reconciler.model.changes import Change
from reconciler.model.errors import WorkspaceError
from reconciler.model.health import Health
from reconciler.model.resources import KindName, address_of

OWNER_TAG = "reconciler.project"
"""Tag key that marks an asset as created and owned by a reconciler project."""


@dataclass(frozen=True)
class Held:
    """An asset that lives inside another and goes when that one is deleted (an index on its
    Vector Search endpoint, an alias on its registered model, a quota on its serving endpoint)."""

    address: str
    owner: str | None
    """The project that marked it as its own, or None."""
    kept_on_replace: bool = False
    """A replace of the holder carries it over (a quota's rate limits): only a delete loses it."""


@dataclass(frozen=True)
class LiveAsset:
    """One asset as it is in the workspace."""

    kind: KindName
    name: str
    doc: Mapping[str, Any]
    """Normalized to the spec shape: server defaults folded away, order made canonical."""
    raw: Mapping[str, Any]
    """The API object as read (``as_dict()``): apply merges with it (AI Gateway, tags)."""
    owner: str | None = None
    """The project that marked the asset as its own, or None when unmarked."""
    unmodelled: tuple[str, ...] = ()
    """Live fields the manifests cannot express, as paths (``served_entities.champion.
    instance_profile_arn``: manifest names down to the modelled object, API names below):
    writes that replace their object carry them, and ``import`` says it cannot write them."""
    marked: bool = True
    """False when ``owner`` is known only from an intent record written before the create
    (a create interrupted before the asset got its marker): the plan writes the marker."""
    holds: tuple[Held, ...] = ()
    """What deleting (or replacing) this asset destroys with it, when the adapter knows."""
    rebuild: str | None = None
    """Why the asset must be rebuilt whatever its fields say (an index whose endpoint was
    re-created after it: orphaned, it never serves again)."""
    health: Health | None = None
    """None when healthy (or when the kind has no health of its own, e.g. a model)."""

    @property
    def address(self) -> str:
        return address_of(self.kind, self.name)


@dataclass(frozen=True)
class VersionInfo:
    model: str
    version: int
    status: str
    """READY, PENDING_REGISTRATION, FAILED_REGISTRATION, ..."""


@dataclass(frozen=True)
class OptimizationInfo:
    """Whether a model version can be served with provisioned throughput, and in which steps
    (``GET /api/2.0/serving-endpoints/get-model-optimization-info/{model}/{version}``)."""

    model: str
    version: int
    optimizable: bool
    chunk_size: int | None = None
    """``throughput_chunk_size``: provisioned throughput bounds are multiples of it."""


class ExtraRead(StrEnum):
    """Reads an adapter makes only for the assets that ask (each costs a call per asset)."""

    PERMISSIONS = "permissions"
    """Endpoints (serving, Vector Search) whose manifest manages ``permissions``."""
    APPROVAL = "approval"
    """Aliases (``model@alias``) whose manifest sets ``approval``: the approval tag of the
    version each points to."""
    OWNER = "owner"
    """Registered models whose manifest sets ``owner`` (the call that carries aliases and tags
    has no owner)."""
    CALLER = "caller"
    """Who runs the plan (one call, whoever asks): permissions keep its own access."""
    GRANTS = "grants"
    """Registered models and vector indexes whose manifest manages Unity Catalog ``grants``."""
    LOCATION = "location"
    """Registered models whose manifest sets ``storage_location``: only the 2.1 GET has it, and
    the create that sets it carries no marker, so such a model found unmarked has the create
    intents read (one list call)."""


@dataclass(frozen=True)
class ReadRequest:
    """What a plan needs: the named assets, the versions named, and (for prune) owned assets."""

    assets: Sequence[tuple[KindName, str]] = ()
    versions: Sequence[tuple[str, int]] = ()
    owned_by: str | None = None
    """When set, also list assets of the requested kinds marked as owned by this project."""
    owned_kinds: Sequence[KindName] = ()
    holds_of: Sequence[tuple[KindName, str]] = ()
    """Assets the plan may delete or replace: read them, and what they hold where that costs
    calls (the indexes on a Vector Search endpoint; other holds come with every read)."""
    optimizations: Sequence[tuple[str, int]] = ()
    """Model versions served with provisioned throughput: their optimization info (chunk
    size) is read (an extra call each)."""
    extra: Mapping[ExtraRead, Sequence[str]] = field(default_factory=dict)
    """The names (per optional read) whose manifests ask for more than the asset itself."""

    def extra_for(self, read: ExtraRead) -> Sequence[str]:
        return self.extra.get(read, ())

    def extra_names(self, read: ExtraRead, kind: KindName) -> list[str]:
        """The names an optional read is for among the requested assets of ``kind`` (``extra``
        holds names: an asset of another kind with the same name costs one call more)."""
        names = set(self.extra_for(read))
        return sorted(n for k, n in self.assets if k == kind and n in names)

    @property
    def permissions_for(self) -> Sequence[str]:
        return self.extra_for(ExtraRead.PERMISSIONS)

    @property
    def approvals_for(self) -> Sequence[str]:
        return self.extra_for(ExtraRead.APPROVAL)

    @property
    def caller(self) -> bool:
        """Read the identity running the plan (``LiveState.caller``)."""
        return bool(self.extra_for(ExtraRead.CALLER))


@dataclass
class LiveState:
    assets: dict[str, LiveAsset] = field(default_factory=dict)
    """By address; an address that was asked for and is absent does not exist."""
    versions: dict[tuple[str, int], VersionInfo] = field(default_factory=dict)
    caller: dict[str, str] | None = None
    """The identity reading (and applying), as a permissions entry names a principal:
    ``{"user": "a@b.com"}`` or ``{"service_principal": "<application id>"}``; read when the
    request asks for it."""
    optimizations: dict[tuple[str, int], OptimizationInfo] = field(default_factory=dict)
    api_calls: int = 0
    throttled: int = 0
    """Calls the workspace answered 429 (each retried after its Retry-After)."""
    seconds: float = 0.0

    def fingerprint(self, addresses: Sequence[str] | None = None) -> str:
        """A stable hash of the live docs (of the given addresses), for stale-plan checks."""
        keys = sorted(self.assets) if addresses is None else sorted(addresses)
        payload = {k: self.assets[k].doc if k in self.assets else None for k in keys}
        blob = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()


class Workspace(ABC):
    """A live system holding assets. One instance per command; not shared across threads
    unless the adapter says so."""

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[KindName]]

    @abstractmethod
    def read(self, request: ReadRequest) -> LiveState:
        """Read what the request names. Never writes."""

    @abstractmethod
    def apply_change(self, change: Change, live: LiveAsset | None) -> None:
        """Execute one change and return once the asset has settled (or raise)."""

    def list_names(self, kind: KindName) -> list[str]:
        """Every live name of one kind (for ``import``); a plan never lists, it reads by name."""
        raise WorkspaceError(f"the {self.name} adapter cannot list {kind.value} assets")

    def prepare_writes(self) -> None:  # noqa: B027 - optional hook
        """Called once before apply's first write (a client with short SDK retries, say)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and in-process servers."""
