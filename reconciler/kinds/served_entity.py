"""Served entities: the models an endpoint serves, how each is sized, what the server fills in.

The whole list is replaced by every config update, so entities compare in full, by name.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, Self

from pydantic import Field, field_validator, model_validator

from reconciler.kinds.base import check_alias_name
from reconciler.kinds.diffing import as_int
from reconciler.kinds.external_model import ExternalModelSpec
from reconciler.kinds.rules import ordered, without_defaults
from reconciler.model.changes import FieldDiff
from reconciler.model.secrets import has_placeholder
from reconciler.model.spec import FieldError, Spec

CONCURRENCY = ("min_provisioned_concurrency", "max_provisioned_concurrency")
THROUGHPUT = ("min_provisioned_throughput", "max_provisioned_throughput")
NOT_FOR_EXTERNAL = (
    "entity",
    "version",
    "workload_size",
    "workload_type",
    "scale_to_zero",
    *CONCURRENCY,
    *THROUGHPUT,
    "provisioned_model_units",
    "burst_scaling_enabled",
    "instance_profile_arn",
    "environment_vars",
)
"""Served-entity fields that size or configure a model Databricks runs itself."""


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


class WorkloadSize(StrEnum):
    """Provisioned concurrency of a served entity: Small 4, Medium 8-16, Large 16-64. Other
    sizes are min/max_provisioned_concurrency (the API's own alternative to a size)."""

    SMALL = "Small"
    MEDIUM = "Medium"
    LARGE = "Large"


def check_workload_size(value: Any) -> Any:
    """``Small``, ``Medium`` or ``Large`` exactly, as the API spells them; anything else is an
    error that suggests the closest one (``small`` -> ``Small``, ``Tiny`` -> ``Small``)."""
    if value is None or value in WorkloadSize.__members__.values():
        return value
    sizes = [s.value for s in WorkloadSize]
    text = str(value)
    close = [s for s in sizes if s.lower() == text.strip().lower()] or difflib.get_close_matches(
        text.capitalize(), sizes, n=1, cutoff=0.4
    )
    guess = f"; did you mean {close[0]!r}?" if close else ""
    raise FieldError(
        f"workload_size {value!r} is not one of {', '.join(sizes)}{guess} (for another size,"
        " set min_provisioned_concurrency and max_provisioned_concurrency instead)"
    )


class ServedEntitySpec(Spec):
    """A model from Unity Catalog (``entity`` is ``cat.sch.model@alias``, or ``cat.sch.model`` +
    ``version``; foundation models are ``system.ai.*``), or an ``external_model``."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$", max_length=63)
    """Stable route name used by traffic; keep it when the version changes."""
    entity: str | None = None
    """catalog.schema.model@alias (resolved at plan time), or catalog.schema.model + version."""
    version: int | None = Field(default=None, ge=1)
    """Model version, only when entity names no alias."""
    external_model: ExternalModelSpec | None = None
    """A model outside Databricks, routed through AI Gateway (instead of entity)."""
    workload_size: WorkloadSize | None = None
    """Small, Medium or Large; other sizes are min/max_provisioned_concurrency (one sizing form
    per entity: a workload size, provisioned concurrency, throughput or model units)."""
    workload_type: WorkloadType | None = None
    """Compute type (default CPU)."""
    scale_to_zero: bool | None = None
    """Scale to zero when idle."""
    min_provisioned_concurrency: int | None = Field(default=None, ge=0)
    """Lower bound of provisioned concurrency."""
    max_provisioned_concurrency: int | None = Field(default=None, ge=0)
    """Upper bound of provisioned concurrency."""
    min_provisioned_throughput: int | None = Field(default=None, ge=0)
    """Provisioned throughput (tokens per second), lower bound: a multiple of the model's
    throughput chunk size (checked at plan time)."""
    max_provisioned_throughput: int | None = Field(default=None, ge=0)
    """Provisioned throughput (tokens per second), upper bound: a multiple of the chunk size."""
    provisioned_model_units: int | None = Field(default=None, ge=0)
    """Model units to provision (models sized in model units rather than tokens per second)."""
    burst_scaling_enabled: bool | None = None
    """Burst beyond the provisioned throughput (the API never returns it: never compared)."""
    instance_profile_arn: str | None = None
    """AWS instance profile the entity runs with."""
    environment_vars: dict[str, str] | None = None
    """Environment variables; values may be {{secrets/scope/key}} references."""

    _size = field_validator("workload_size", mode="before")(check_workload_size)

    @model_validator(mode="after")
    def _check(self) -> Self:
        for var, value in (self.environment_vars or {}).items():
            if has_placeholder(value):  # as import writes it
                raise FieldError(
                    f"served entity {self.name!r}: environment variable {var} holds the"
                    " '(secret ...)' placeholder written by import; put the secret reference"
                    " back",
                    at=("environment_vars", var),
                )
        if self.external_model is not None:
            return self._check_external()
        if self.entity is None:
            raise FieldError(
                f"served entity {self.name!r} needs entity (catalog.schema.model@alias) or"
                " external_model",
                at=(),
            )
        self._check_entity(self.entity)
        self._check_sizing()
        return self

    def _check_external(self) -> Self:
        for field in NOT_FOR_EXTERNAL:
            if field in self.model_fields_set and getattr(self, field) is not None:
                raise FieldError(
                    f"served entity {self.name!r}: {field} does not apply to an external model"
                    " (the provider serves it)",
                    at=(field,),
                    key=True,
                )
        return self

    def _check_entity(self, entity: str) -> None:
        model, at, alias = entity.partition("@")
        if not model:
            raise FieldError(
                f"served entity {self.name!r}: entity {entity!r} names no model", at=("entity",)
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
                f"served entity {self.name!r}: entity {entity!r} needs '@alias' or a version",
                at=("entity",),
            )

    def _check_sizing(self) -> None:
        """One sizing form: workload size, provisioned concurrency, provisioned throughput or
        model units."""
        forms = {
            "workload_size": ("workload_size",),
            "min/max_provisioned_concurrency": CONCURRENCY,
            "min/max_provisioned_throughput": THROUGHPUT,
            "provisioned_model_units": ("provisioned_model_units",),
        }
        used = [
            (form, next(f for f in fields if getattr(self, f) is not None))
            for form, fields in forms.items()
            if any(getattr(self, f) is not None for f in fields)
        ]
        if len(used) > 1:
            (first, field), (second, _) = used[0], used[1]
            raise FieldError(
                f"served entity {self.name!r}: {first} cannot be combined with {second};"
                " use one way of sizing the entity",
                at=(field,),
            )
        for lo_field, hi_field in (CONCURRENCY, THROUGHPUT):
            lo, hi = getattr(self, lo_field), getattr(self, hi_field)
            if lo is not None and hi is not None and lo > hi:
                raise FieldError(
                    f"served entity {self.name!r}: {lo_field} ({lo}) is greater than"
                    f" {hi_field} ({hi})",
                    at=(lo_field,),
                )

    @property
    def model_name(self) -> str:
        """The Unity Catalog model served ('' for an external model)."""
        return (self.entity or "").partition("@")[0]

    @property
    def alias(self) -> str | None:
        return (self.entity or "").partition("@")[2] or None


DEFAULT_WORKLOAD_TYPE = "CPU"
SIZING_FORMS: tuple[tuple[str, ...], ...] = (
    ("workload_size",),
    CONCURRENCY,
    THROUGHPUT,
    ("provisioned_model_units",),
)
"""Ways of sizing an entity the API takes one at a time; the server may derive the later forms
from the first (min/max concurrency from a workload size) and show both."""
ENTITY_DEFAULTS: dict[str, Any] = {
    "workload_type": DEFAULT_WORKLOAD_TYPE,
    "scale_to_zero": False,
    "environment_vars": {},
}
"""What the server fills in on an entity when the manifest leaves a field unset (the
endpoint's ``server_defaults`` under ``served_entities.*``)."""
_IDENTITY = ("name", "entity", "version")


def _canonical_entity(entity: Mapping[str, Any]) -> dict[str, Any]:
    """Server defaults dropped, so that set-to-default and unset compare equal."""
    defaults = ENTITY_DEFAULTS
    out = {
        k: v
        for k, v in entity.items()
        if k != "alias" and v is not None and not (k in defaults and v == defaults[k])
    }
    if "version" in out:
        out["version"] = as_int(out["version"])
    return out


def _set_fields(entity: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a manifest entity sets (``false`` and ``{}`` included)."""
    out = {k: v for k, v in entity.items() if k != "alias" and v is not None}
    if "version" in out:
        out["version"] = as_int(out["version"])
    return out


def served_now(live: Mapping[str, Any] | None) -> dict[tuple[str, str], int]:
    """(entity name, model) -> the version a live endpoint document serves under that name."""
    out: dict[tuple[str, str], int] = {}
    for entity in (live or {}).get("served_entities") or []:
        version = as_int(entity.get("version"))
        if isinstance(version, int):
            out[(str(entity.get("name")), str(entity.get("entity")))] = version
    return out


def diff_entities(
    desired: Sequence[Mapping[str, Any]], live: Sequence[Mapping[str, Any]]
) -> list[FieldDiff]:
    """Entities by name: added and removed ones whole; of the others, only the fields the
    manifest sets (apply keeps the rest at their live values)."""
    want = {e["name"]: e for e in desired}
    have = {e["name"]: _canonical_entity(e) for e in live}
    diffs: list[FieldDiff] = []
    for name in sorted(set(want) | set(have)):
        path = f"served_entities.{name}"
        if name not in have:
            diffs.append(FieldDiff(path=path, before=None, after=_canonical_entity(want[name])))
            continue
        if name not in want:
            diffs.append(FieldDiff(path=path, before=have[name], after=None))
            continue
        w, h = _set_fields(want[name]), have[name]
        for key in sorted(set(w) - {"name"}, key=_entity_key_order):
            have_value = h.get(key, ENTITY_DEFAULTS.get(key))  # a folded default reads as itself
            if w[key] != have_value:
                diffs.append(FieldDiff(path=f"{path}.{key}", before=have_value, after=w[key]))
    return diffs


def kept_entity_fields(write: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    """The modelled fields of a live entity a config write keeps because the manifest leaves
    them unset (server defaults aside). Of the sizing forms, the manifest's wins; with none in
    the manifest, the first form live has (a workload size over the concurrency derived
    from it)."""
    w, h = _set_fields(write), _canonical_entity(live)
    return sorted(
        k for k in h if k not in w and k not in _IDENTITY and k not in dropped_sizing(w, h)
    )


def dropped_sizing(written: Mapping[str, Any], live: Mapping[str, Any]) -> set[str]:
    """Live sizing fields a write must not carry: those of every form but the one written (or,
    when none is written, the first form live has)."""
    forms = [f for f in SIZING_FORMS if any(k in written for k in f)]
    forms = forms or [f for f in SIZING_FORMS if any(live.get(k) is not None for k in f)]
    keep = forms[0] if forms else ()
    return {k for f in SIZING_FORMS if f != keep for k in f}


_ENTITY_KEYS = (
    "name",
    "entity",
    "version",
    "external_model",
    "workload_size",
    "workload_type",
    *CONCURRENCY,
    *THROUGHPUT,
    "provisioned_model_units",
    "burst_scaling_enabled",
    "scale_to_zero",
    "instance_profile_arn",
    "environment_vars",
)


def _entity_key_order(key: str) -> tuple[int, str]:
    order = ("entity", "version", "workload_size", "workload_type", "scale_to_zero")
    return (order.index(key) if key in order else len(order), key)


def import_entity(entity: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(entity)
    out.pop("alias", None)
    if out.get("workload_size") is not None:
        for key in CONCURRENCY:  # derived by the server from the workload size
            out.pop(key, None)
    out = without_defaults(out, ENTITY_DEFAULTS)
    return ordered(out, _ENTITY_KEYS)
