"""One read of the Databricks adapter: the state the kind readers share, and their contract.

A read runs in rounds. Each kind reader (one per kind module) hands over the calls it can make
in round 0 from the request alone, in round 1 from what round 0 found (permissions need an
endpoint id, owned indexes are listed on their endpoints' tags), in round 2 from round 1; the
calls of one round run concurrently under the adaptive limiter. Then every reader folds what it
found into live assets, through its kind's ``normalize``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar, TypeVar

from databricks.sdk.errors import NotFound, PermissionDenied
from databricks.sdk.errors.base import DatabricksError

from reconciler.adapters.databricks.sdk import WorkspaceClient
from reconciler.model.errors import WorkspaceError
from reconciler.model.health import Health
from reconciler.model.live import Held, LiveAsset, LiveState, ReadRequest
from reconciler.model.resources import KindName, address_of

T = TypeVar("T")
Task = Callable[[], None]
Normalize = Callable[[KindName, Mapping[str, Any]], dict[str, Any]]
Unmodelled = Callable[[KindName, Mapping[str, Any]], list[str]]
HealthOf = Callable[[KindName, Mapping[str, Any]], Health | None]
ROUNDS = 3


@contextmanager
def translated(what: str) -> Iterator[None]:
    """SDK errors become one WorkspaceError naming what was being read."""
    try:
        yield
    except TimeoutError as exc:
        cause = exc.__cause__
        raise WorkspaceError(
            f"reading {what}: the workspace kept refusing ({cause or exc}); gave up retrying",
            hint="the workspace is throttling or unavailable; try again later",
        ) from None
    except PermissionDenied as exc:
        raise WorkspaceError(
            f"reading {what}: permission denied: {str(exc).split('. Config:')[0]}",
            hint="the identity used needs read access to this asset",
        ) from None
    except DatabricksError as exc:
        raise WorkspaceError(f"reading {what}: {str(exc).split('. Config:')[0]}") from None


def get_or_none(what: str, fn: Callable[[], T]) -> T | None:
    with translated(what):
        try:
            return fn()
        except NotFound:
            return None


def names(what: str, call: Callable[[], Iterable[Any]], attr: str) -> list[str]:
    """Every ``attr`` of what a list call yields, sorted (for ``import``)."""
    try:
        return sorted({str(getattr(item, attr)) for item in call() if getattr(item, attr)})
    except DatabricksError as exc:
        raise WorkspaceError(f"listing {what}: {str(exc).split('. Config:')[0]}") from None


class ReadRun:
    """What one read asked for, and what it has found so far (touched under ``lock``)."""

    def __init__(
        self,
        client: WorkspaceClient,
        request: ReadRequest,
        normalize: Normalize,
        unmodelled: Unmodelled | None = None,
        health: HealthOf | None = None,
    ) -> None:
        self.client = client
        self.request = request
        self.normalize = normalize
        self.unmodelled = unmodelled
        self.health = health
        self.project = request.owned_by
        self.owned_kinds = set(request.owned_kinds) if self.project else set()
        self.lock = threading.Lock()
        self.wanted: dict[KindName, set[str]] = {k: set() for k in KindName}
        self.holds_of: dict[KindName, set[str]] = {k: set() for k in KindName}
        for kind, name in request.assets:
            self.wanted[KindName(kind)].add(name)
        for kind, name in request.holds_of:
            self.wanted[KindName(kind)].add(name)
            self.holds_of[KindName(kind)].add(name)
        self.shared: dict[str, Any] = {}
        """Raw objects one reader lists for another (Vector Search endpoints for indexes)."""
        self.live = LiveState()

    def owns(self, *kinds: KindName) -> bool:
        """Whether the read also looks for assets of these kinds the project owns (prune)."""
        return bool(self.owned_kinds & set(kinds))

    def add(
        self,
        kind: KindName,
        name: str,
        raw: Mapping[str, Any],
        owner: str | None,
        *,
        marked: bool = True,
        holds: tuple[Held, ...] = (),
        rebuild: str | None = None,
    ) -> None:
        """Fold one raw object into a live asset, if the read asked for it or (prune) it is
        the project's own (``LiveAsset`` says what the keywords mean)."""
        wanted = name in self.wanted[kind]
        owned = self.project is not None and owner == self.project and kind in self.owned_kinds
        if not (wanted or owned):
            return
        doc = self.normalize(kind, raw)
        extra = tuple(self.unmodelled(kind, raw)) if self.unmodelled is not None else ()
        health = self.health(kind, raw) if self.health is not None else None
        asset = LiveAsset(
            kind=kind,
            name=name,
            doc=doc,
            raw=raw,
            owner=owner,
            unmodelled=extra,
            marked=marked,
            holds=holds,
            rebuild=rebuild,
            health=health,
        )
        self.live.assets[address_of(kind, name)] = asset


class KindReader:
    """Reads the live objects of the kinds of one module; one instance per read."""

    kinds: ClassVar[frozenset[KindName]] = frozenset()
    """The kinds whose live assets this reader folds (``assemble``)."""

    def __init__(self, run: ReadRun) -> None:
        self.run = run
        self.client = run.client

    def round(self, number: int) -> list[Task]:
        """The calls of round ``number`` (0, 1, 2); each stores what it finds under the lock."""
        return []

    def assemble(self) -> None:
        """Fold what the rounds found into live assets (``run.add``)."""
