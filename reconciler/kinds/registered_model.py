"""Registered models (Unity Catalog or MLflow) and the aliases they carry."""

from __future__ import annotations

from pydantic import Field, field_validator

from reconciler.kinds.base import Spec, check_alias_name, check_uc_name


class AliasEntry(Spec):
    """Long form of an alias: ``champion: {version: 4, approval: CHG-2187}``."""

    version: int = Field(ge=1)
    approval: str | None = Field(
        default=None, description="Change or approval reference, written as a version tag."
    )


class RegisteredModelSpec(Spec):
    """``registered_models:`` entry. On Databricks ``name`` is catalog.schema.model."""

    name: str = Field(min_length=1)
    comment: str | None = None
    owner: str | None = None
    tags: dict[str, str] | None = None
    aliases: dict[str, int | AliasEntry] = Field(default_factory=dict)

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, value: dict[str, int | AliasEntry]) -> dict[str, int | AliasEntry]:
        for alias, entry in value.items():
            check_alias_name(alias)
            if isinstance(entry, int) and entry < 1:
                raise ValueError(f"alias {alias!r}: version must be a positive integer")
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
