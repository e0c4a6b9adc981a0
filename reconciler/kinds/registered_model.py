"""Registered models (Unity Catalog or MLflow) and the aliases they carry."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from reconciler.kinds.base import check_alias_name, check_uc_name
from reconciler.model.spec import FieldError, Spec


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
    tags: dict[str, str] | None = None
    """Model tags."""
    aliases: dict[str, int | AliasEntry] = Field(default_factory=dict)
    """alias -> version (champion: 4), or alias -> {version, approval}. Versions are created by
    training pipelines; the plan checks they exist and are READY."""

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


def check_databricks_model_name(name: str) -> str:
    """UC models need three-level names; MLflow registries accept free-form names."""
    return check_uc_name(name, "registered model name")


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
