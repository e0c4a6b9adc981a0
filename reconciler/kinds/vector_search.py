"""Vector Search endpoints and indexes.

An endpoint's type is fixed at creation; an index has no update call at all, so any change of
its spec rebuilds it. The server rewrites an index's schema (Spark type names, sorted keys) and
fills its subtype; both fold away here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set
from enum import StrEnum
from typing import Any, ClassVar, Literal, Self

from pydantic import Field, field_validator, model_validator

from reconciler.kinds.access import DeployerKeepsAccess, keep_deployer
from reconciler.kinds.base import ENDPOINT_NAME, check_uc_name
from reconciler.kinds.diffing import diff_managed, diff_tags, field_diff, sorted_tags
from reconciler.kinds.grants import (
    GRANTED_BY,
    GRANTS,
    IndexGrantSpec,
    canonical_grants,
    check_unique,
    diff_grants,
    import_grants,
)
from reconciler.kinds.index_spec import (
    DEFAULT_SUBTYPE,
    DeltaSyncSpec,
    DirectAccessSpec,
    IndexSubtype,
    fold_schema,
    manifest_type,
)
from reconciler.kinds.rules import DesiredContext, KindRules, ordered, without_defaults
from reconciler.kinds.serving_endpoint import PermissionSpec, canonical_permissions
from reconciler.model.changes import FieldDiff
from reconciler.model.errors import ManifestError
from reconciler.model.live import ExtraRead, LiveAsset
from reconciler.model.resources import DesiredState, KindName, Resource, address_of
from reconciler.model.spec import FieldError, Spec
from reconciler.project import Target


class VectorSearchEndpointType(StrEnum):
    STANDARD = "STANDARD"
    STORAGE_OPTIMIZED = "STORAGE_OPTIMIZED"


class EndpointPermissionSpec(PermissionSpec):
    """One direct ACL entry on a Vector Search endpoint (same shape as a serving endpoint's)."""

    level: Literal["CAN_CREATE", "CAN_MANAGE", "CAN_USE"]  # type: ignore[assignment]


MANAGED = frozenset({"type", "budget_policy_id", "tags", "target_qps", "permissions"})
"""Fields an external endpoint (managed elsewhere) cannot take."""


class VectorSearchEndpointSpec(Spec):
    """``vector_search_endpoints:`` entry; ``external: true`` = used here, managed elsewhere."""

    name: str
    """Endpoint name: letters, digits, '-' and '_'."""
    type: VectorSearchEndpointType = VectorSearchEndpointType.STANDARD
    """Changing it replaces the endpoint."""
    budget_policy_id: str | None = None
    """Budget policy."""
    tags: dict[str, str] | None = None
    """Custom tags."""
    target_qps: int | None = Field(default=None, ge=1)
    """Queries per second the endpoint is scaled for (changes in place)."""
    permissions: list[EndpointPermissionSpec] | None = None
    """Direct ACL entries: CAN_USE, CAN_CREATE (indexes on it), CAN_MANAGE."""
    external: bool = False
    """Used by indexes here, managed elsewhere: never created, changed or deleted."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not ENDPOINT_NAME.match(value):
            raise ValueError(
                f"vector search endpoint name {value!r}: use letters, digits, '-' and '_'"
            )
        return value

    @model_validator(mode="after")
    def _external(self) -> Self:
        if self.external:
            managed = sorted(self.model_fields_set & MANAGED)
            if managed:
                raise FieldError(
                    f"vector search endpoint {self.name!r} is external (managed elsewhere);"
                    f" {managed[0]} would have no effect here",
                    at=(managed[0],),
                    key=True,
                )
        return self


class VectorIndexSpec(Spec):
    """``vector_indexes:`` entry: exactly one of ``delta_sync`` or ``direct_access``."""

    name: str
    """catalog.schema.index"""
    endpoint: str
    """A vector search endpoint declared in the manifests (external: true if managed elsewhere)."""
    primary_key: str
    """Primary key column."""
    subtype: IndexSubtype | None = None
    """HYBRID or FULL_TEXT."""
    delta_sync: DeltaSyncSpec | None = None
    """Index synced from a Delta table."""
    direct_access: DirectAccessSpec | None = None
    """Index written through the API."""
    grants: list[IndexGrantSpec] | None = None
    """Unity Catalog grants on the index (SELECT lets a principal query it): authoritative
    for the principals named; others' grants are left alone. Changed in place."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_uc_name(value, "index name")

    @model_validator(mode="after")
    def _one_type(self) -> Self:
        check_unique(self.grants)
        if (self.delta_sync is None) == (self.direct_access is None):
            raise ValueError(
                f"index {self.name!r} needs exactly one of delta_sync or direct_access"
            )
        if self.direct_access is not None and self.primary_key not in self.direct_access.schema_:
            raise FieldError(
                f"index {self.name!r}: primary_key {self.primary_key!r} is not a column of"
                " direct_access.schema",
                at=("primary_key",),
            )
        return self


DELTA_LOSS = "the rebuilt index re-syncs and re-embeds its whole source table"
DIRECT_LOSS = "every row upserted into it is lost"


class VectorSearchEndpointRules(DeployerKeepsAccess, KindRules):
    kind = KindName.VECTOR_SEARCH_ENDPOINT
    spec = VectorSearchEndpointSpec
    manifest_key = "vector_search_endpoints"
    noun = "vector search endpoint"
    apply_timeout = 75 * 60.0  # Terraform: 75 minutes to provision an endpoint
    immutable: ClassVar[Mapping[str, str]] = {"type": "fixed at creation"}
    write_only: ClassVar[frozenset[str]] = frozenset({"budget_policy_id"})
    """GET carries ``effective_budget_policy_id`` (maybe the workspace's), never the one set:
    no read says whether a changed manifest value differs from live, so it is never an update
    (the workspace's PATCH .../budget-policy exists, but a plan cannot know when to call it)."""
    folded: ClassVar[Mapping[str, Callable[[Any], Any]]] = {
        "tags": sorted_tags,
        "permissions": canonical_permissions,
    }
    import_reads = frozenset({ExtraRead.PERMISSIONS})

    def is_external(self, resource: Resource) -> bool:
        spec = resource.spec
        return isinstance(spec, VectorSearchEndpointSpec) and spec.external

    def desired_doc(self, resource: Resource, ctx: DesiredContext) -> dict[str, Any]:
        doc = resource.spec.doc()
        doc.pop("external", None)
        if "permissions" in doc:
            doc["permissions"] = keep_deployer(doc["permissions"], ctx.caller)
        return doc

    def diff(self, desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[FieldDiff]:
        diffs = []
        if "type" in desired and desired["type"] != live.get("type"):
            diffs.append(field_diff("type", live.get("type"), desired["type"]))
        if "tags" in desired:
            diffs.extend(diff_tags(desired["tags"], live.get("tags") or {}, "tags"))
        if "target_qps" in desired and desired["target_qps"] != live.get("target_qps"):
            diffs.append(field_diff("target_qps", live.get("target_qps"), desired["target_qps"]))
        if "permissions" in desired and "permissions" in live:
            want = canonical_permissions(desired["permissions"])
            if want != live["permissions"]:
                diffs.append(field_diff("permissions", live["permissions"], want))
        return diffs

    def replace_reason(self, name: str, immutable: Sequence[FieldDiff]) -> str:
        # The plan adds which indexes it holds, and their rebuild.
        return (
            f"type cannot change in place: vector search endpoint {name} is deleted and"
            " recreated, and any index on it with it"
        )

    def delete_reason(self, name: str, live: Mapping[str, Any]) -> str:
        return f"deletes vector search endpoint {name}"

    def import_entry(self, asset: LiveAsset) -> dict[str, Any] | None:
        return ordered(
            without_defaults(asset.doc, self.server_defaults),
            ("name", "type", "budget_policy_id", "target_qps", "tags", "permissions"),
        )


class VectorIndexRules(KindRules):
    kind = KindName.VECTOR_INDEX
    spec = VectorIndexSpec
    manifest_key = "vector_indexes"
    noun = "vector index"
    apply_timeout = 75 * 60.0  # Terraform: 75 minutes for an index (initial sync)
    immutable: ClassVar[Mapping[str, str]] = {
        field: "indexes have no update call"
        for field in ("endpoint", "primary_key", "subtype", "delta_sync", "direct_access")
    }
    server_defaults: ClassVar[Mapping[str, Any]] = {"subtype": DEFAULT_SUBTYPE}
    folded: ClassVar[Mapping[str, Callable[[Any], Any]]] = {
        "direct_access.schema": fold_schema,
        GRANTS: canonical_grants,
    }
    import_reads = frozenset({ExtraRead.GRANTS})

    def extra_reads(self, doc: Mapping[str, Any]) -> frozenset[ExtraRead]:
        """Grants are read only when the manifest manages them."""
        return frozenset({ExtraRead.GRANTS}) if GRANTS in doc else frozenset()

    def diff_recorded(
        self, desired: Mapping[str, Any], live: Mapping[str, Any], project: str
    ) -> list[FieldDiff]:
        return diff_grants(desired, live, project)

    def diff(self, desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[FieldDiff]:
        want = {k: v for k, v in desired.items() if k != GRANTS}
        for kind in ("delta_sync", "direct_access"):
            if kind not in want and live.get(kind) is not None:
                want[kind] = None  # index type switch: the old spec goes away
        return diff_managed(want, live, defaults=self.server_defaults)

    def dependencies(self, name: str, doc: Mapping[str, Any], known: Set[str]) -> list[str]:
        deps = [address_of(KindName.VECTOR_SEARCH_ENDPOINT, str(doc.get("endpoint", "")))]
        for kind in ("delta_sync", "direct_access"):
            for col in (doc.get(kind) or {}).get("embedding_source_columns") or []:
                for key in ("model_endpoint", "model_endpoint_for_query"):
                    if col.get(key):
                        deps.append(address_of(KindName.SERVING_ENDPOINT, col[key]))
        return sorted({d for d in deps if d in known})

    def requires(self, name: str, doc: Mapping[str, Any]) -> list[str]:
        return [address_of(KindName.VECTOR_SEARCH_ENDPOINT, str(doc.get("endpoint", "")))]

    def replace_reason(self, name: str, immutable: Sequence[FieldDiff]) -> str:
        fields = ", ".join(sorted({d.path for d in immutable}))
        specs = {d.path.split(".", 1)[0] for d in immutable} & {"delta_sync", "direct_access"}
        if specs == {"delta_sync"}:
            loss = DELTA_LOSS
        elif specs == {"direct_access"}:
            loss = DIRECT_LOSS
        else:
            loss = (
                "a delta-sync index re-syncs and re-embeds its whole source table,"
                " a direct-access index loses every upserted row"
            )
        return (
            f"{fields} cannot change in place (indexes have no update call): index {name} is"
            f" deleted and rebuilt, losing its contents: {loss}; queries fail until it is ready"
        )

    def loss(self, doc: Mapping[str, Any]) -> str | None:
        delta = doc.get("delta_sync")
        if isinstance(delta, Mapping):
            return f"{DELTA_LOSS} ({delta.get('source_table')})"
        return DIRECT_LOSS

    def delete_reason(self, name: str, live: Mapping[str, Any]) -> str:
        return f"deletes index {name} and its contents"

    def check_references(self, resource: Resource, desired: DesiredState, target: Target) -> None:
        """The index's endpoint is declared (``external: true`` when managed elsewhere)."""
        spec = resource.spec
        assert isinstance(spec, VectorIndexSpec)
        endpoints = {r.name for r in desired.of_kind(KindName.VECTOR_SEARCH_ENDPOINT)}
        if spec.endpoint not in endpoints:
            raise ManifestError(
                f"vector index {spec.name!r} is on vector search endpoint {spec.endpoint!r},"
                " which is not declared",
                location=desired.location_of(resource.address, "endpoint"),
                hint="declare it under vector_search_endpoints (with `external: true` if it is"
                " managed elsewhere)",
            )

    def import_entry(self, asset: LiveAsset) -> dict[str, Any] | None:
        """Column types in the manifests' spelling: the server answers Spark's (``bigint``)."""
        keys = ("name", "endpoint", "primary_key", "subtype", "delta_sync", "direct_access")
        doc = {k: v for k, v in asset.doc.items() if k != GRANTED_BY}
        if isinstance(doc.get("direct_access"), Mapping):
            direct = dict(doc["direct_access"])
            schema = direct.get("schema") or {}
            direct["schema"] = {col: manifest_type(str(t)) for col, t in schema.items()}
            doc["direct_access"] = direct
        doc[GRANTS] = import_grants(doc.get(GRANTS))
        return ordered(without_defaults(doc, self.server_defaults), (*keys, GRANTS))


RULES = (VectorSearchEndpointRules(), VectorIndexRules())
