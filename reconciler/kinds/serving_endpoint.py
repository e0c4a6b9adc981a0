"""Model serving endpoints: served entities, scaling, traffic, AI Gateway, tags, permissions."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from reconciler.kinds.base import ENDPOINT_NAME, check_alias_name
from reconciler.model.secrets import SECRET_MASK
from reconciler.model.spec import FieldError, Spec

MAX_SERVED_ENTITIES = 10


class WorkloadType(StrEnum):
    CPU = "CPU"
    CPU_LARGE = "CPU_LARGE"
    CPU_MEDIUM = "CPU_MEDIUM"
    GPU_LARGE = "GPU_LARGE"
    GPU_MEDIUM = "GPU_MEDIUM"
    GPU_SMALL = "GPU_SMALL"
    GPU_XLARGE = "GPU_XLARGE"
    GPU_XLARGE_8 = "GPU_XLARGE_8"
    MULTIGPU_MEDIUM = "MULTIGPU_MEDIUM"


class ServedEntitySpec(Spec):
    """``entity`` is ``cat.sch.model@alias``, or ``cat.sch.model`` + ``version``."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$", max_length=63)
    """Stable route name used by traffic; keep it when the version changes."""
    entity: str
    """catalog.schema.model@alias (resolved at plan time), or catalog.schema.model + version."""
    version: int | None = Field(default=None, ge=1)
    """Model version, only when entity names no alias."""
    workload_size: str | None = None
    """Small, Medium, Large (or a custom size); not with min/max provisioned concurrency."""
    workload_type: WorkloadType | None = None
    """Compute type (default CPU)."""
    scale_to_zero: bool | None = None
    """Scale to zero when idle."""
    min_provisioned_concurrency: int | None = Field(default=None, ge=0)
    """Lower bound of provisioned concurrency."""
    max_provisioned_concurrency: int | None = Field(default=None, ge=0)
    """Upper bound of provisioned concurrency."""
    environment_vars: dict[str, str] | None = None
    """Environment variables; values may be {{secrets/scope/key}} references."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        for var, value in (self.environment_vars or {}).items():
            if SECRET_MASK in value:  # as import writes it
                raise FieldError(
                    f"served entity {self.name!r}: environment variable {var} holds the"
                    " '(secret)' placeholder written by import; put the secret reference back",
                    at=("environment_vars", var),
                )
        model, at, alias = self.entity.partition("@")
        if not model:
            raise FieldError(
                f"served entity {self.name!r}: entity {self.entity!r} names no model",
                at=("entity",),
            )
        if at:
            try:
                check_alias_name(alias)
            except ValueError as exc:
                raise FieldError(f"served entity {self.name!r}: {exc}", at=("entity",)) from None
        if at and self.version is not None:
            raise FieldError(
                f"served entity {self.name!r}: give either entity 'model@alias' or a version,"
                " not both",
                at=("version",),
            )
        if not at and self.version is None:
            raise FieldError(
                f"served entity {self.name!r}: entity {self.entity!r} needs '@alias' or a version",
                at=("entity",),
            )
        uses_concurrency = (
            self.min_provisioned_concurrency is not None
            or self.max_provisioned_concurrency is not None
        )
        if self.workload_size is not None and uses_concurrency:
            raise FieldError(
                f"served entity {self.name!r}: workload_size cannot be combined with"
                " min/max_provisioned_concurrency; use one or the other",
                at=("workload_size",),
            )
        lo, hi = self.min_provisioned_concurrency, self.max_provisioned_concurrency
        if lo is not None and hi is not None and lo > hi:
            raise FieldError(
                f"served entity {self.name!r}: min_provisioned_concurrency ({lo}) is greater"
                f" than max_provisioned_concurrency ({hi})",
                at=("min_provisioned_concurrency",),
            )
        return self

    @property
    def model_name(self) -> str:
        return self.entity.partition("@")[0]

    @property
    def alias(self) -> str | None:
        return self.entity.partition("@")[2] or None


class PiiBehavior(StrEnum):
    BLOCK = "BLOCK"
    MASK = "MASK"
    NONE = "NONE"


class GuardrailSpec(Spec):
    safety: bool | None = None
    pii: PiiBehavior | None = None
    invalid_keywords: list[str] | None = None
    valid_topics: list[str] | None = None


class GuardrailsSpec(Spec):
    input: GuardrailSpec | None = None
    output: GuardrailSpec | None = None


class InferenceTablesSpec(Spec):
    enabled: bool = True
    catalog: str
    schema_: str = Field(alias="schema")
    table_name_prefix: str | None = None


class AiGatewaySpec(Spec):
    """AI Gateway settings other than rate limits (those live in ``quotas:``)."""

    usage_tracking: bool | None = None
    """Record usage in the system tables."""
    guardrails: GuardrailsSpec | None = None
    """Input and output guardrails."""
    inference_tables: InferenceTablesSpec | None = None
    """Log requests and responses to a Unity Catalog table."""
    fallbacks: bool | None = None
    """Fall back to the other served entities on errors."""


class PermissionSpec(Spec):
    """One direct ACL entry; exactly one of user, group, service_principal."""

    user: str | None = None
    group: str | None = None
    service_principal: str | None = None
    level: Literal["CAN_MANAGE", "CAN_QUERY", "CAN_VIEW"]

    @model_validator(mode="after")
    def _one_principal(self) -> Self:
        given = [p for p in (self.user, self.group, self.service_principal) if p is not None]
        if len(given) != 1:
            raise ValueError("a permission names exactly one of user, group, service_principal")
        return self


class ServingEndpointSpec(Spec):
    """``serving_endpoints:`` entry."""

    name: str
    """Endpoint name: letters, digits, '-' and '_' (at most 63)."""
    description: str | None = None
    """Set at creation."""
    route_optimized: bool | None = None
    """Set at creation; changing it replaces the endpoint."""
    budget_policy_id: str | None = None
    """Set at creation."""
    served_entities: list[ServedEntitySpec] = Field(min_length=1)
    """1 to 10 served models."""
    traffic: dict[str, int] | None = None
    """served entity name -> percent; required with several entities; sums to 100."""
    ai_gateway: AiGatewaySpec | None = None
    """AI Gateway settings; rate limits are declared under quotas."""
    tags: dict[str, str] | None = None
    """Endpoint tags."""
    permissions: list[PermissionSpec] | None = None
    """Direct ACL entries."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not ENDPOINT_NAME.match(value):
            raise ValueError(
                f"endpoint name {value!r}: use letters, digits, '-' and '_' (at most 63),"
                " starting with a letter or digit"
            )
        return value

    @model_validator(mode="after")
    def _check(self) -> Self:
        entities = self.served_entities
        if len(entities) > MAX_SERVED_ENTITIES:
            raise FieldError(
                f"endpoint {self.name!r} has {len(entities)} served entities;"
                f" at most {MAX_SERVED_ENTITIES} are allowed",
                at=("served_entities", MAX_SERVED_ENTITIES),
            )
        names = [e.name for e in entities]
        seen: set[str] = set()
        for index, name in enumerate(names):
            if name in seen:
                raise FieldError(
                    f"endpoint {self.name!r}: served entity name {name!r} is used twice",
                    at=("served_entities", index, "name"),
                )
            seen.add(name)
        if self.traffic is None:
            if len(entities) > 1:
                raise FieldError(
                    f"endpoint {self.name!r} serves {len(entities)} entities and needs"
                    f" a traffic split naming each (traffic: {{{names[0]}: 90, ...}})",
                    at=("served_entities",),
                )
            return self
        for route, pct in self.traffic.items():
            if route not in seen:
                raise FieldError(
                    f"endpoint {self.name!r}: traffic names {route!r}, which is not a served"
                    f" entity (served: {', '.join(names)})",
                    at=("traffic", route),
                    key=True,
                )
            if not 0 <= pct <= 100:
                raise FieldError(
                    f"endpoint {self.name!r}: traffic to {route!r} is {pct}%; it must be 0 to 100",
                    at=("traffic", route),
                )
        total = sum(self.traffic.values())
        if total != 100:
            raise FieldError(
                f"endpoint {self.name!r}: traffic sums to {total}%, not 100%", at=("traffic",)
            )
        return self
