"""Vector Search endpoints and indexes."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, field_validator, model_validator

from reconciler.kinds.base import ENDPOINT_NAME, Spec, check_uc_name


class VectorSearchEndpointType(StrEnum):
    STANDARD = "STANDARD"
    STORAGE_OPTIMIZED = "STORAGE_OPTIMIZED"


class VectorSearchEndpointSpec(Spec):
    """``vector_search_endpoints:`` entry; ``external: true`` = used here, managed elsewhere."""

    name: str
    type: VectorSearchEndpointType = VectorSearchEndpointType.STANDARD
    budget_policy_id: str | None = None
    tags: dict[str, str] | None = None
    external: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not ENDPOINT_NAME.match(value):
            raise ValueError(
                f"vector search endpoint name {value!r}: use letters, digits, '-' and '_'"
            )
        return value


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


class VectorIndexSpec(Spec):
    """``vector_indexes:`` entry: exactly one of ``delta_sync`` or ``direct_access``."""

    name: str
    endpoint: str
    primary_key: str
    subtype: IndexSubtype | None = None
    delta_sync: DeltaSyncSpec | None = None
    direct_access: DirectAccessSpec | None = None

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
        return self
