"""The base of every kind's spec model, and the error a spec validator raises about one field."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Spec(BaseModel):
    """A manifest value: unknown fields are errors, values never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def doc(self) -> dict[str, Any]:
        """The fields the manifest sets, as plain JSON-able data (unset means unmanaged)."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


class FieldError(ValueError):
    """A validation error about one field of the model being validated.

    ``at`` is the path of that field relative to the model (``("traffic",)``,
    ``("served_entities", 2, "entity")``) so the loader can point at the exact line;
    ``key=True`` points at the mapping key itself (a bad alias name rather than its version);
    ``hint`` says what to do instead (shown under the error).
    """

    def __init__(
        self,
        message: str,
        *,
        at: tuple[str | int, ...] = (),
        key: bool = False,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.at = at
        self.key = key
        self.hint = hint
