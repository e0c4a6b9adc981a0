"""The spec of a vector index's contents, and the spellings of its column types.

A delta-sync index follows a Delta table (embeddings computed by a model endpoint, or vectors
computed elsewhere); a direct-access index is written through the API, its columns declared in
``schema``. The server answers column types in Spark's names (``bigint``) where manifests write
the API's (``long``): both fold to one form before comparing, and import writes the manifests'.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Self

from pydantic import Field, field_validator, model_validator

from reconciler.kinds.base import check_uc_name
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
        allowed = {fold_type(t) for t in DIRECT_ACCESS_TYPES}
        for column, type_ in value.items():
            if fold_type(type_) not in allowed:  # Spark's spellings too (bigint for long)
                raise FieldError(
                    f"column {column!r} has type {type_!r}; use one of"
                    f" {', '.join(sorted(DIRECT_ACCESS_TYPES))}",
                    at=(column,),
                )
        return value


DEFAULT_SUBTYPE = "HYBRID"
_SPARK_TYPES = {"integer": "int", "long": "bigint", "short": "smallint", "byte": "tinyint"}
_MANIFEST_TYPES = {spark: ours for ours, spark in _SPARK_TYPES.items()}


def fold_type(name: str) -> str:
    """``integer`` and ``int`` (and the other Spark spellings) are the same column type."""
    folded = "".join(str(name).lower().split())
    if folded.startswith("array<") and folded.endswith(">"):
        return f"array<{fold_type(folded[len('array<') : -1])}>"
    return _SPARK_TYPES.get(folded, folded)


def manifest_type(name: str) -> str:
    """A column type as manifests spell it (``long``), from any spelling (``bigint``)."""
    folded = fold_type(name)
    if folded.startswith("array<") and folded.endswith(">"):
        return f"array<{manifest_type(folded[len('array<') : -1])}>"
    return _MANIFEST_TYPES.get(folded, folded)


def fold_schema(schema: Mapping[str, Any] | str | None) -> dict[str, str]:
    if schema is None:
        return {}
    if isinstance(schema, str):
        schema = json.loads(schema) if schema.strip() else {}
    assert isinstance(schema, Mapping)
    return {str(k): fold_type(str(v)) for k, v in sorted(schema.items())}
