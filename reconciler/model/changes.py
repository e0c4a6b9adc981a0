"""Changes and plans: small immutable values, serialized as the plan JSON contract."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reconciler.model.digest import ManifestDigest
from reconciler.model.health import AssetHealth
from reconciler.model.resources import KindName

FORMAT_VERSION = "1"


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    ADOPT = "adopt"
    """A declared asset that exists and no project owns: apply writes its diffs (if any),
    then this project's ownership marker. Not destructive."""


class FieldDiff(BaseModel):
    """One field that differs: ``path`` is dotted (``served_entities.champion.version``)."""

    model_config = ConfigDict(frozen=True)

    path: str
    before: Any = None
    after: Any = None


class Change(BaseModel):
    """One planned change of one asset.

    ``desired`` is the spec document apply sends (aliases resolved to versions, secrets kept as
    ``{{secrets/...}}`` references, never values; sealed in plan files, see
    ``reconciler.plan.sealed``), holding the live value wherever the target ignores a
    difference; ``None`` for deletes.
    """

    model_config = ConfigDict(frozen=True)

    address: str
    kind: KindName
    name: str
    action: Action
    diffs: tuple[FieldDiff, ...] = ()
    depends_on: tuple[str, ...] = ()
    """Changes of this plan that run before it: what it needs (creates, updates, replaces), or
    the deletes of what used it (deletes: an index goes before its endpoint)."""
    reason: str | None = Field(default=None, description="Why replace/delete; what is lost.")
    carried: tuple[str, ...] = Field(
        default=(),
        description="Live fields the writes send back as they are because no manifest sets"
        " them, where a write replaces the whole object holding them.",
    )
    desired: dict[str, Any] | None = None

    @property
    def destructive(self) -> bool:
        return self.action in (Action.DELETE, Action.REPLACE)


class Summary(BaseModel):
    model_config = ConfigDict(frozen=True)

    create: int = 0
    update: int = 0
    replace: int = 0
    delete: int = 0
    adopt: int = 0


class Plan(BaseModel):
    """The ordered changes for one target. ``fingerprint`` hashes the live state read;
    ``manifests`` digests the files it was planned from; ``health`` lists the declared assets
    that exist and are not healthy (information: apply does not act on it)."""

    model_config = ConfigDict(frozen=True)

    format_version: str = FORMAT_VERSION
    project: str = ""
    target: str
    changes: tuple[Change, ...] = ()
    summary: Summary = Summary()
    fingerprint: str | None = None
    manifests: ManifestDigest | None = None
    health: tuple[AssetHealth, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.changes

    @property
    def destructive(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.destructive)


def summarize(changes: tuple[Change, ...]) -> Summary:
    counts = {a: 0 for a in Action}
    for change in changes:
        counts[change.action] += 1
    return Summary(
        create=counts[Action.CREATE],
        update=counts[Action.UPDATE],
        replace=counts[Action.REPLACE],
        delete=counts[Action.DELETE],
        adopt=counts[Action.ADOPT],
    )
