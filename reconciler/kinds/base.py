"""Shared base for the spec models of every asset kind."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict

UC_NAME = re.compile(r"^[^.\s`/]+\.[^.\s`/]+\.[^.\s`/]+$")
ENDPOINT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
ALIAS_NAME = re.compile(r"^[\w-]+$")
RESERVED_VERSION_ALIAS = re.compile(r"^[vV]\d+$")


class Spec(BaseModel):
    """A manifest value: unknown fields are errors, values never change after loading."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, use_attribute_docstrings=True
    )

    def doc(self) -> dict[str, Any]:
        """The fields the manifest sets, as plain JSON-able data (unset means unmanaged)."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


def check_uc_name(value: str, what: str) -> str:
    if not UC_NAME.match(value):
        raise ValueError(
            f"{what} {value!r} must be a three-level Unity Catalog name: catalog.schema.name"
        )
    return value


def check_alias_name(value: str) -> str:
    if len(value) > 255:
        raise ValueError(f"alias {value[:40]!r}... is longer than 255 characters")
    if not ALIAS_NAME.match(value):
        raise ValueError(f"alias {value!r} may only contain letters, digits, '_' and '-'")
    if value.lower() == "latest":
        raise ValueError("alias 'latest' (any case) is reserved by MLflow")
    if RESERVED_VERSION_ALIAS.match(value):
        raise ValueError(f"alias {value!r} is reserved by MLflow for version references")
    return value


class FieldError(ValueError):
    """A validation error about one field of the model being validated.

    ``at`` is the path of that field relative to the model (``("traffic",)``,
    ``("served_entities", 2, "entity")``) so the loader can point at the exact line;
    ``key=True`` points at the mapping key itself (a bad alias name rather than its version).
    """

    def __init__(self, message: str, *, at: tuple[str | int, ...] = (), key: bool = False) -> None:
        super().__init__(message)
        self.at = at
        self.key = key
