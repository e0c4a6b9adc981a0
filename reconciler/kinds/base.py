"""Name checks shared by the spec models of the kinds."""

from __future__ import annotations

import re

UC_NAME = re.compile(r"^[^.\s`/]+\.[^.\s`/]+\.[^.\s`/]+$")
ENDPOINT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
ALIAS_NAME = re.compile(r"^[\w-]+$")
RESERVED_VERSION_ALIAS = re.compile(r"^[vV]\d+$")


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
