"""Vector Search endpoints and indexes."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, field_validator, model_validator

from reconciler.kinds.base import ENDPOINT_NAME, check_uc_name
from reconciler.model.spec import FieldError, Spec

DIRECT_ACCESS_TYPES = frozenset(
    {
        "integer",
        "long",
        "float",
        "double",
        "boolean",
        "string",
        "date",
        "timestamp",
        "array<float>",
        "array<double>",
    }
)


class VectorSearchEndpointType(StrEnum):
    STANDARD = "STANDARD"
    STORAGE_OPTIMIZED = "STORAGE_OPTIMIZED"


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
            managed = sorted(self.model_fields_set & {"type", "budget_policy_id", "tags"})
            if managed:
                raise FieldError(
                    f"vector search endpoint {self.name!r} is external (managed elsewhere);"
                    f" {managed[0]} would have no effect here",
                    at=(managed[0],),
                    key=True,
                )
        return self


class PipelineType(StrEnum):
    TRIGGERED = "TRIGGERED"
    CONTINUOUS = "CONTINUOUS"


class IndexSubtype(StrEnum):
    HYBRID = "HYBRID"
    FULL_TEXT = "FULL_TEXT"


class EmbeddingSourceColumn(Spec):
    name: str
    model_endpoint: str
    model_endpoint_for_query: str | None = None


class EmbeddingVectorColumn(Spec):
    name: str
    dimension: int = Field(ge=1)


class DeltaSyncSpec(Spec):
    source_table: str
    pipeline_type: PipelineType = PipelineType.TRIGGERED
    embedding_source_columns: list[EmbeddingSourceColumn] | None = None
    embedding_vector_columns: list[EmbeddingVectorColumn] | None = None
    columns_to_sync: list[str] | None = None
    embedding_writeback_table: str | None = None

    @field_validator("source_table")
    @classmethod
    def _table(cls, value: str) -> str:
        return check_uc_name(value, "source_table")

    @model_validator(mode="after")
    def _embedding(self) -> Self:
        if not self.embedding_source_columns and not self.embedding_vector_columns:
            raise ValueError(
                "delta_sync needs embedding_source_columns (managed embeddings) or"
                " embedding_vector_columns (self-managed vectors)"
            )
        return self


class DirectAccessSpec(Spec):
    """``schema`` maps column name to type (integer, long, float, double, boolean, string,
    date, timestamp, array<float>, array<double>)."""

    schema_: dict[str, str] = Field(alias="schema", min_length=1)
    embedding_vector_columns: list[EmbeddingVectorColumn] | None = None
    embedding_source_columns: list[EmbeddingSourceColumn] | None = None

    @field_validator("schema_")
    @classmethod
    def _types(cls, value: dict[str, str]) -> dict[str, str]:
        for column, type_ in value.items():
            if type_.strip().lower() not in DIRECT_ACCESS_TYPES:
                raise FieldError(
                    f"column {column!r} has type {type_!r}; use one of"
                    f" {', '.join(sorted(DIRECT_ACCESS_TYPES))}",
                    at=(column,),
                )
        return value


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

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_uc_name(value, "index name")

    @model_validator(mode="after")
    def _one_type(self) -> Self:
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
