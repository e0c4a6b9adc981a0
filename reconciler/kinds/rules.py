"""What every kind declares, and the defaults the engine falls back to: the engine knows no kind
by name, it asks these rules (through ``reconciler.kinds.registry``).

A kind says, as data: where it is written in manifests and what a message calls it (metadata),
which fields cannot change in place and why, which values the server fills in by itself, which
fields the API never returns, and how values fold into one canonical form. As code, where data
does not reach: the document apply sends (``desired_doc``), which differences matter
(``diff``), what it depends on, and how a live asset reads as a manifest entry (``import_entry``).
The wire mapping both ways lives in the adapters (``reconciler.adapters.<target>.<kind>``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set
from typing import Any, ClassVar, Protocol

from reconciler.kinds.diffing import creation_diffs, diff_managed
from reconciler.kinds.keep_live import KeyOf, keep_live
from reconciler.kinds.write_only import matches, without_write_only
from reconciler.model.changes import Action, FieldDiff
from reconciler.model.errors import Location
from reconciler.model.live import ExtraRead, LiveAsset
from reconciler.model.resources import DesiredState, KindName, Resource
from reconciler.model.spec import Spec
from reconciler.project import Target


class DesiredContext(Protocol):
    """What a kind may ask the planner while building a desired document (all pure lookups)."""

    declared: Set[str]
    """Addresses the manifests declare."""
    caller: Mapping[str, str] | None
    """The identity planning (and applying) as a permissions principal (``{"user": ...}``),
    when a kind asked for it (``ExtraRead.CALLER``); None before the live state is read."""

    def live_doc(self, resource: Resource) -> Mapping[str, Any] | None:
        """The live document of the asset (None when it does not exist or is not read yet)."""
        ...

    def alias_version(
        self, resource: Resource, path: str, model: str, alias: str, *, in_place: int | None
    ) -> int:
        """The version ``model@alias`` will point to after this plan; PlanError if none, and
        a ``check_version`` of it unless it is ``in_place`` (what the live asset already has
        at ``path``: nothing changes there, so its status does not matter)."""
        ...

    def check_version(self, resource: Resource, path: str, model: str, version: int) -> None:
        """PlanError at the manifest location when the version is missing or not READY. Kinds
        ask only for a version that changes: a version a plan does not move to is never read."""
        ...

    def check_throughput(
        self, resource: Resource, path: str, model: str, version: int, bounds: Mapping[str, int]
    ) -> None:
        """PlanError at ``<path>.<field>`` when the version cannot be served with provisioned
        throughput, or a bound (field -> tokens per second) is not a multiple of its chunk
        size."""
        ...


Entry = tuple[Resource, dict[str, Location]]
"""A resource derived from a manifest entry, and where its fields were written (dotted paths)."""


class KindRules:
    kind: ClassVar[KindName]

    # --- metadata: manifests, messages, import -------------------------------------------
    spec: ClassVar[type[Spec]]
    """The manifest entry model (for kinds written in manifests, the list item)."""
    manifest_key: ClassVar[str | None] = None
    """The top-level manifest list (``serving_endpoints``); None when the kind is derived from
    another kind's entries (aliases come from ``registered_models[].aliases``)."""
    noun: ClassVar[str]
    """What messages call one asset: ``serving endpoint``."""
    name_field: ClassVar[str] = "name"
    """The manifest field naming the asset (its key in a target's overrides)."""
    replaced_on_override: ClassVar[frozenset[str]] = frozenset()
    """Mapping fields a target override replaces whole instead of merging key by key (a
    traffic split must sum to 100 on its own)."""
    registry_kind: ClassVar[bool] = False
    """Held by any MLflow model registry, not only by Databricks workspaces."""
    imported_with: ClassVar[KindName | None] = None
    """Not imported on its own but as part of that kind's entries (aliases, with their model)."""
    import_reads: ClassVar[frozenset[ExtraRead]] = frozenset()
    """Extra reads ``import`` makes for every asset of the kind (its grants, its permissions),
    so the written entries carry them."""

    # --- field rules, as data --------------------------------------------------------------
    immutable: ClassVar[Mapping[str, str]] = {}
    """Dotted path prefix -> why it cannot change in place: a change needs a replace."""
    server_defaults: ClassVar[Mapping[str, Any]] = {}
    """Dotted path -> the value the server fills in when the manifest leaves it unset: an
    absent live value compares as this, and import leaves a value equal to it out. ``*``
    stands for every item of a list (``served_entities.*.workload_type``)."""
    write_only: ClassVar[frozenset[str]] = frozenset()
    """Dotted paths the API accepts but never returns: sent, never compared, wherever they sit
    (``reconciler.kinds.write_only``: ``*`` and ``**`` parts, globs)."""
    folded: ClassVar[Mapping[str, Callable[[Any], Any]]] = {}
    """Dotted path -> the canonical form a value takes on both sides before comparing (order
    that carries no meaning, spellings the server rewrites)."""
    keyed_lists: ClassVar[Mapping[str, KeyOf]] = {}
    """Document path of a list -> how diff paths name its items (served entities by name)."""

    # --- behaviour -------------------------------------------------------------------------
    apply_timeout: ClassVar[float] = 20 * 60.0
    """Seconds one change may take, waits included, unless the target or the run says
    otherwise (at least what Terraform's Databricks provider allows for the same resource)."""
    delete_needs_prune: ClassVar[str | None] = None
    """Deleting takes what no apply can bring back (a model's versions): said here, and such
    deletes happen on prune targets only."""
    cascade_unowned: ClassVar[str | None] = None
    """An asset of this kind that no project owns, held by an asset a plan deletes (an alias on
    its model): None = it blocks that delete, as one owned by another project does; a text =
    it may go with its holder, and why (shown in the plan)."""

    def write_scope(self, name: str) -> str:
        """Changes in one scope run one after the other: one write at a time per live object."""
        return f"{self.kind.value}.{name}"

    def desired_doc(self, resource: Resource, ctx: DesiredContext) -> dict[str, Any]:
        """The document apply sends and the diff compares; defaults to the manifest fields."""
        return resource.spec.doc()

    def desired(self, resource: Resource, ctx: DesiredContext) -> dict[str, Any]:
        """``desired_doc`` with the folded fields in canonical form: what the planner uses."""
        return self.fold(self.desired_doc(resource, ctx))

    def fold(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """``doc`` with every ``folded`` field in canonical form (live documents go through
        this too, so both sides of a comparison are folded the same way)."""
        out = dict(doc)
        for path, fold in self.folded.items():
            _fold_at(out, path.split("."), fold)
        return out

    def diff(self, desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[FieldDiff]:
        """Managed fields only (what ``desired`` sets), with the server defaults filled in."""
        return diff_managed(desired, live, defaults=self.server_defaults)

    def field_diffs(
        self, desired: Mapping[str, Any], live: Mapping[str, Any], project: str = ""
    ) -> list[FieldDiff]:
        """``diff`` and ``diff_recorded`` without the write-only fields (taken out of both
        sides, wherever they sit): what the planner compares."""
        if self.write_only:
            desired = without_write_only(desired, self.write_only)
            live = without_write_only(live, self.write_only)
        diffs = [*self.diff(desired, live), *self.diff_recorded(desired, live, project)]
        return [d for d in diffs if not matches(d.path, self.write_only)]

    def diff_recorded(
        self, desired: Mapping[str, Any], live: Mapping[str, Any], project: str
    ) -> list[FieldDiff]:
        """Differences that depend on what ``project`` recorded as its own on the live asset
        (the grants it made, which it alone may revoke)."""
        return []

    def keep_live(
        self, write: Mapping[str, Any], live: Mapping[str, Any], ignored: Sequence[FieldDiff]
    ) -> dict[str, Any]:
        """``write`` with the fields of the ``ignored`` diffs at their live values: the
        document apply writes when a target ignores some of the asset's differences."""
        return keep_live(write, live, ignored, self.keyed_lists)

    def write_problem(self, doc: Mapping[str, Any]) -> str | None:
        """Why apply could not send ``doc`` (None when it can). Manifests are checked as they
        load; this catches documents that keep ignored fields at live values which no longer
        fit the rest (an ignored traffic split naming a removed entity)."""
        return None

    def carried(
        self, write: Mapping[str, Any], live: LiveAsset, diffs: Sequence[FieldDiff], action: Action
    ) -> list[str]:
        """Live fields this change's writes send back as they are because no manifest sets
        them (fields the manifests cannot express, and fields they can but leave unset), where
        a write replaces the whole object holding them. Shown in the plan."""
        return []

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

    def caution(
        self, doc: Mapping[str, Any], diffs: Sequence[FieldDiff], ctx: DesiredContext
    ) -> str | None:
        """What a reviewer must not miss about applying ``doc`` (shown with the change, like a
        replace's reason); ``diffs`` are the change's (a create's: every field)."""
        return None

    def creation_diffs(self, doc: Mapping[str, Any]) -> list[FieldDiff]:
        """What a create sets, one line per top-level field."""
        return creation_diffs(doc)

    def needs_replace(self, diffs: Sequence[FieldDiff]) -> list[FieldDiff]:
        return [d for d in diffs if under(d.path, self.immutable)]

    def replace_reason(self, name: str, immutable: Sequence[FieldDiff]) -> str:
        fields = ", ".join(sorted({d.path for d in immutable}))
        return f"{fields} cannot change in place; the {self.kind.value} is deleted and recreated"

    def delete_reason(self, name: str, live: Mapping[str, Any]) -> str:
        """Why the delete, and what it takes with it; ``live`` is the raw API object."""
        return f"{self.kind.value} {name} left the manifests and is owned by this project"

    def loss(self, doc: Mapping[str, Any]) -> str | None:
        """What rebuilding the asset ``doc`` describes loses, in a few words (None: nothing
        beyond the time it takes)."""
        return None

    def rebuild_reason(self, name: str, doc: Mapping[str, Any], why: str) -> str:
        """The reason of a replace that no field asks for: ``why`` (its holder is replaced,
        it was orphaned), then what the rebuild loses."""
        loss = self.loss(doc)
        lost = f", losing its contents: {loss}" if loss else ""
        return f"{why}: {self.noun} {name} is deleted and rebuilt{lost}"

    # --- manifests -------------------------------------------------------------------------

    def name_of(self, spec: Spec) -> str:
        """The asset's name (its API id) in a manifest entry."""
        return str(getattr(spec, "name"))  # noqa: B009 - a field or a property, per kind

    def check_entry(
        self, resource: Resource, where: Callable[[str], Location], target_name: str, target: Target
    ) -> None:
        """Raise ManifestError for what the target cannot take in this entry, as the entry is
        read; ``where(field)`` is where a field of the entry was written."""

    def derived(self, resource: Resource, positions: Mapping[str, Location]) -> list[Entry]:
        """Assets an entry declares beside itself (a model's aliases)."""
        return []

    def check_references(self, resource: Resource, desired: DesiredState, target: Target) -> None:
        """Raise ManifestError when the entry refers to something the manifests must declare
        (checked once every file is read)."""

    # --- import ----------------------------------------------------------------------------

    def import_entry(self, asset: LiveAsset) -> dict[str, Any] | None:
        """The manifest entry for a live asset (None: nothing to write), server defaults out."""
        return without_defaults(asset.doc, self.server_defaults)

    def import_skip(self, asset: LiveAsset) -> str | None:
        """Why a live asset of this kind cannot be imported, if it cannot."""
        return None


def under(path: str, prefixes: Mapping[str, Any] | Set[str] | Sequence[str]) -> bool:
    return any(path == p or path.startswith(p + ".") for p in prefixes)


def _fold_at(doc: dict[str, Any], parts: list[str], fold: Callable[[Any], Any]) -> None:
    head, rest = parts[0], parts[1:]
    if head not in doc or doc[head] is None:
        return
    if not rest:
        doc[head] = fold(doc[head])
        return
    if isinstance(doc[head], Mapping):
        inner = dict(doc[head])
        _fold_at(inner, rest, fold)
        doc[head] = inner


def without_defaults(doc: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``doc`` without the values equal to their server default (paths as in
    ``server_defaults``, ``*`` for each item of a list), then without None and empty
    containers: what an imported manifest leaves out."""
    out = _drop_defaults(doc, "", defaults)
    pruned = _pruned(out)
    assert isinstance(pruned, dict)
    return pruned


def _drop_defaults(value: Any, path: str, defaults: Mapping[str, Any]) -> Any:
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if sub in defaults and item == defaults[sub]:
                continue
            out[key] = _drop_defaults(item, sub, defaults)
        return out
    if isinstance(value, list):
        return [_drop_defaults(item, f"{path}.*", defaults) for item in value]
    return value


def _pruned(value: Any) -> Any:
    """Drop None and empty containers, recursively."""
    if isinstance(value, Mapping):
        out = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != {} and v != []}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def ordered(doc: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """Keys in the order the manifest documentation uses, unknown keys last."""
    first = {k: doc[k] for k in keys if k in doc}
    return {**first, **{k: v for k, v in doc.items() if k not in first}}
