"""Registered models (Unity Catalog or MLflow) and the aliases they carry: specs, rules, metadata.

A model's ``aliases:`` become ``model_alias`` assets of their own (one address each), so an alias
moves without touching its model. Model versions are never created here: the plan checks that
every version named exists and is READY.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set
from typing import Any, ClassVar, Self

from pydantic import Field, field_validator, model_validator

from reconciler.kinds.base import UC_NAME, check_alias_name
from reconciler.kinds.diffing import as_int, diff_tags, sorted_tags
from reconciler.kinds.grants import (
    GRANTS,
    ModelGrantSpec,
    canonical_grants,
    check_unique,
    diff_grants,
    import_grants,
)
from reconciler.kinds.rules import DesiredContext, Entry, KindRules, ordered, without_defaults
from reconciler.model.changes import FieldDiff
from reconciler.model.errors import Location, ManifestError
from reconciler.model.live import ExtraRead, LiveAsset
from reconciler.model.resources import KindName, Resource, address_of
from reconciler.model.spec import FieldError, Spec
from reconciler.project import Target, TargetType

SYSTEM_CATALOG = "system"
"""Databricks' own catalog (``system.ai`` foundation models): referenced, never managed."""


class AliasEntry(Spec):
    """Long form of an alias: ``champion: {version: 4, approval: CHG-2187}``."""

    version: int = Field(ge=1)
    """The model version the alias points to."""
    approval: str | None = Field(
        default=None, description="Change or approval reference, written as a version tag."
    )


class RegisteredModelSpec(Spec):
    """``registered_models:`` entry. On Databricks ``name`` is catalog.schema.model."""

    name: str = Field(min_length=1)
    """catalog.schema.model on Databricks; free-form in an MLflow registry."""
    comment: str | None = None
    """Description of the model."""
    owner: str | None = None
    """Owner (Unity Catalog user or group)."""
    storage_location: str | None = None
    """Where the model's files are kept (set at creation; a change replaces the model, and
    every version with it). Unset: the metastore's managed storage."""
    tags: dict[str, str] | None = None
    """Model tags."""
    aliases: dict[str, int | AliasEntry] = Field(default_factory=dict)
    """alias -> version (champion: 4), or alias -> {version, approval}. Versions are created by
    training pipelines; the plan checks they exist and are READY."""
    grants: list[ModelGrantSpec] | None = None
    """Unity Catalog grants on the model (EXECUTE lets a principal load and serve it):
    authoritative for the principals named; others' grants are left alone."""

    @model_validator(mode="after")
    def _grants(self) -> Self:
        check_unique(self.grants)
        return self

    @field_validator("aliases", mode="before")
    @classmethod
    def _aliases(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        for alias, entry in value.items():
            try:
                check_alias_name(str(alias))
            except ValueError as exc:
                raise FieldError(str(exc), at=(alias,), key=True) from None
            if isinstance(entry, dict):
                continue
            if isinstance(entry, bool) or not isinstance(entry, int) or entry < 1:
                raise FieldError(
                    f"alias {alias!r}: the version must be a positive integer (champion: 4)"
                    " or a mapping (champion: {version: 4, approval: CHG-1})",
                    at=(alias,),
                )
        return value

    def alias_entries(self) -> dict[str, AliasEntry]:
        return {
            alias: entry if isinstance(entry, AliasEntry) else AliasEntry(version=entry)
            for alias, entry in self.aliases.items()
        }


class ModelAliasSpec(Spec):
    """One alias of one model, derived from ``registered_models[].aliases``.

    Address: ``model_alias.<model>@<alias>``.
    """

    model: str
    alias: str
    version: int
    approval: str | None = None

    @property
    def name(self) -> str:
        return f"{self.model}@{self.alias}"


def alias_address(model: str, alias: str) -> str:
    return address_of(KindName.MODEL_ALIAS, f"{model}@{alias}")


MLFLOW_REFUSED = (
    ("grants", "have no Unity Catalog grants"),
    ("storage_location", "take no storage_location"),
    ("owner", "have no model owner"),
)
"""Fields of a Unity Catalog model an MLflow registry has no place for, in the order checked."""


class RegisteredModelRules(KindRules):
    kind = KindName.REGISTERED_MODEL
    spec = RegisteredModelSpec
    manifest_key = "registered_models"
    noun = "registered model"
    registry_kind = True
    immutable: ClassVar[Mapping[str, str]] = {
        "storage_location": "set at creation only (Unity Catalog has no update for it)"
    }
    folded: ClassVar[Mapping[str, Callable[[Any], Any]]] = {
        "tags": sorted_tags,
        GRANTS: canonical_grants,
    }
    import_reads = frozenset({ExtraRead.GRANTS})
    delete_needs_prune = (
        "registered models (and all their versions) are deleted only with"
        " 'prune: true' on the target and --allow-delete"
    )

    def desired_doc(self, resource: Resource, ctx: DesiredContext) -> dict[str, Any]:
        doc = resource.spec.doc()
        doc.pop("aliases", None)  # aliases are model_alias assets of their own
        return doc

    def extra_reads(self, doc: Mapping[str, Any]) -> frozenset[ExtraRead]:
        """The owner and the storage location are not on the read that carries aliases and
        tags, and grants cost a call: each is read only when the manifest sets it."""
        reads = set()
        if doc.get("owner") is not None:
            reads.add(ExtraRead.OWNER)
        if doc.get("storage_location") is not None:
            reads.add(ExtraRead.LOCATION)
        if GRANTS in doc:
            reads.add(ExtraRead.GRANTS)
        return frozenset(reads)

    def diff_recorded(
        self, desired: Mapping[str, Any], live: Mapping[str, Any], project: str
    ) -> list[FieldDiff]:
        return diff_grants(desired, live, project)

    def diff(self, desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[FieldDiff]:
        diffs = []
        for field in ("comment", "owner", "storage_location"):
            if field in desired and (desired[field] or None) != (live.get(field) or None):
                diffs.append(FieldDiff(path=field, before=live.get(field), after=desired[field]))
        if "tags" in desired:
            diffs.extend(diff_tags(desired["tags"], live.get("tags") or {}, "tags"))
        return diffs

    def delete_reason(self, name: str, live: Mapping[str, Any]) -> str:
        return (
            f"deletes registered model {name} with ALL its versions (not recoverable);"
            " apply needs --allow-delete"
        )

    def replace_reason(self, name: str, immutable: Sequence[FieldDiff]) -> str:
        fields = ", ".join(sorted({d.path for d in immutable}))
        return (
            f"{fields} cannot change in place: registered model {name} is deleted with ALL its"
            " versions (not recoverable) and created again, empty; its aliases and the"
            " endpoints serving its versions stop resolving until new versions are registered"
        )

    def check_entry(
        self, resource: Resource, where: Callable[[str], Location], target_name: str, target: Target
    ) -> None:
        spec = resource.spec
        assert isinstance(spec, RegisteredModelSpec)
        is_mlflow = target.type is TargetType.MLFLOW
        if not is_mlflow and not UC_NAME.match(spec.name):
            raise ManifestError(
                f"registered model name {spec.name!r} must be a three-level Unity"
                " Catalog name: catalog.schema.model",
                location=where("name"),
                hint=f"{target.type.value} targets keep models in Unity Catalog;"
                " only mlflow targets take free-form names",
            )
        refused = [(f, says) for f, says in MLFLOW_REFUSED if getattr(spec, f) is not None]
        if is_mlflow and refused:
            field, says = refused[0]
            raise ManifestError(
                f"registered model {spec.name!r}: MLflow registries {says}",
                location=where(field),
                hint=f"remove '{field}' or use it only on databricks targets"
                f" (target {target_name!r} is an mlflow registry)",
            )

    def derived(self, resource: Resource, positions: Mapping[str, Location]) -> list[Entry]:
        """One ``model_alias`` per alias, with the positions under ``aliases.<alias>``."""
        model = resource.spec
        assert isinstance(model, RegisteredModelSpec)
        here = positions.get("") or resource.location
        out: list[Entry] = []
        for alias, entry in model.alias_entries().items():
            prefix = f"aliases.{alias}"
            sub = {
                k[len(prefix) + 1 :]: v for k, v in positions.items() if k.startswith(prefix + ".")
            }
            at = positions.get(prefix, here)
            if at is not None:
                sub[""] = at
            spec = ModelAliasSpec(
                model=model.name, alias=alias, version=entry.version, approval=entry.approval
            )
            out.append((Resource(KindName.MODEL_ALIAS, spec.name, spec, sub.get("")), sub))
        return out

    def import_skip(self, asset: LiveAsset) -> str | None:
        if asset.name.split(".", 1)[0] == SYSTEM_CATALOG:
            return "a Databricks system model (the system catalog is not managed by projects)"
        return None

    def import_entry(self, asset: LiveAsset) -> dict[str, Any] | None:
        """Name, comment, tags and the aliases the model carries (``raw["aliases"]``:
        ``[{alias_name, version_num}]``, which every adapter's raw registered model holds).
        ``owner`` defaults to whoever created the model; importing it would pin that person."""
        doc = asset.doc
        out = {k: doc.get(k) for k in ("name", "comment", "tags")}
        out[GRANTS] = import_grants(doc.get(GRANTS))
        aliases = {}
        for alias in asset.raw.get("aliases") or []:
            name, version = alias.get("alias_name"), alias.get("version_num")
            if name and version is not None:
                aliases[str(name)] = int(version)
        out["aliases"] = dict(sorted(aliases.items()))
        return ordered(without_defaults(out, {}), ("name", "comment", "tags", "aliases", GRANTS))


class ModelAliasRules(KindRules):
    kind = KindName.MODEL_ALIAS
    spec = ModelAliasSpec
    noun = "alias"
    registry_kind = True
    imported_with = KindName.REGISTERED_MODEL
    cascade_unowned = "an alias no project manages goes with the versions it points to"

    def extra_reads(self, doc: Mapping[str, Any]) -> frozenset[ExtraRead]:
        """The approval is a tag on the version: read it only when the manifest sets one."""
        return frozenset({ExtraRead.APPROVAL}) if doc.get("approval") is not None else frozenset()

    def desired_doc(self, resource: Resource, ctx: DesiredContext) -> dict[str, Any]:
        spec = resource.spec
        assert isinstance(spec, ModelAliasSpec)
        live = ctx.live_doc(resource)
        if live is None or as_int(live.get("version")) != spec.version:
            ctx.check_version(resource, "version", spec.model, spec.version)  # a move only
        return spec.doc()

    def diff(self, desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[FieldDiff]:
        """The version; and the approval when the manifest sets one and the alias already points
        at that version (the live approval is the ``reconciler.approval.<alias>`` tag of the
        version; a move records the manifest's approval on the new version anyway, so another
        version's record is not a difference of its own)."""
        want, have = as_int(desired.get("version")), as_int(live.get("version"))
        if want != have:
            return [FieldDiff(path="version", before=have, after=want)]
        approval = desired.get("approval")
        if approval is not None and str(approval) != live.get("approval"):
            return [FieldDiff(path="approval", before=live.get("approval"), after=approval)]
        return []

    def creation_diffs(self, doc: Mapping[str, Any]) -> list[FieldDiff]:
        """The address names the model and the alias already."""
        return [
            FieldDiff(path=k, before=None, after=v)
            for k, v in doc.items()
            if k not in ("model", "alias")
        ]

    def dependencies(self, name: str, doc: Mapping[str, Any], known: Set[str]) -> list[str]:
        model = address_of(KindName.REGISTERED_MODEL, str(doc.get("model", "")))
        return [model] if model in known else []

    def delete_reason(self, name: str, live: Mapping[str, Any]) -> str:
        return f"removes alias {name}; anything loading models:/{name} stops resolving"

    def import_entry(self, asset: LiveAsset) -> dict[str, Any] | None:
        return None  # written under its model's ``aliases:``


RULES = (RegisteredModelRules(), ModelAliasRules())
