"""Model serving endpoints: served entities, scaling, traffic, AI Gateway, tags, permissions."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from reconciler.kinds.base import ENDPOINT_NAME, Spec

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
    entity: str
    version: int | None = Field(default=None, ge=1)
    workload_size: str | None = None
    workload_type: WorkloadType | None = None
    scale_to_zero: bool | None = None
    min_provisioned_concurrency: int | None = Field(default=None, ge=0)
    max_provisioned_concurrency: int | None = Field(default=None, ge=0)
    environment_vars: dict[str, str] | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        alias = self.entity.partition("@")[2]
        if alias and self.version is not None:
            raise ValueError(
                f"served entity {self.name!r}: give either entity 'model@alias' or a version,"
                " not both"
            )
        if not alias and self.version is None:
            raise ValueError(
                f"served entity {self.name!r}: entity {self.entity!r} needs '@alias' or a version"
            )
        uses_concurrency = (
            self.min_provisioned_concurrency is not None
            or self.max_provisioned_concurrency is not None
        )
        if self.workload_size is not None and uses_concurrency:
            raise ValueError(
                f"served entity {self.name!r}: workload_size cannot be combined with"
                " min/max_provisioned_concurrency; use one or the other"
            )
        lo, hi = self.min_provisioned_concurrency, self.max_provisioned_concurrency
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(
                f"served entity {self.name!r}: min_provisioned_concurrency ({lo}) is greater"
                f" than max_provisioned_concurrency ({hi})"
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
    guardrails: GuardrailsSpec | None = None
    inference_tables: InferenceTablesSpec | None = None
    fallbacks: bool | None = None


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
    description: str | None = None
    route_optimized: bool | None = None
    budget_policy_id: str | None = None
    served_entities: list[ServedEntitySpec] = Field(min_length=1)
    traffic: dict[str, int] | None = None
    ai_gateway: AiGatewaySpec | None = None
    tags: dict[str, str] | None = None
    permissions: list[PermissionSpec] | None = None

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
            raise ValueError(
                f"endpoint {self.name!r} has {len(entities)} served entities;"
                f" at most {MAX_SERVED_ENTITIES} are allowed"
            )
        names = [e.name for e in entities]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"endpoint {self.name!r}: served entity names repeat: {dupes}")
        if self.traffic is None:
            if len(entities) > 1:
                raise ValueError(
                    f"endpoint {self.name!r} serves {len(entities)} entities and needs"
                    " a traffic split naming each"
                )
            return self
        unknown = sorted(set(self.traffic) - set(names))
        if unknown:
            raise ValueError(
                f"endpoint {self.name!r}: traffic names {unknown}, which are not served"
                f" entities (served: {names})"
            )
        for route, pct in self.traffic.items():
            if not 0 <= pct <= 100:
                raise ValueError(f"traffic to {route!r} is {pct}%; it must be 0 to 100")
        total = sum(self.traffic.values())
        if total != 100:
            raise ValueError(f"endpoint {self.name!r}: traffic sums to {total}%, not 100%")
        return self
