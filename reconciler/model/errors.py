"""One base error for everything the CLI reports to a user without a traceback."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a source file; lines and columns are 1-based, as editors show them."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class ReconcilerError(Exception):
    """An error the user can act on.

    The CLI prints ``error: <where>: <message>`` and the hint, with no traceback unless ``-v``.
    ``where`` is a file location when the error comes from a manifest, else an asset address.
    """

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        address: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.address = address
        self.hint = hint

    @property
    def where(self) -> str | None:
        if self.location is not None:
            return str(self.location)
        return self.address

    def __str__(self) -> str:
        where = self.where
        return f"{where}: {self.message}" if where else self.message


class ManifestError(ReconcilerError):
    """The project file or a manifest is malformed or invalid."""


class PlanError(ReconcilerError):
    """A plan cannot be computed (missing version, cycle, unsupported kind for the target)."""


class WorkspaceError(ReconcilerError):
    """The live workspace answered with an error we cannot recover from."""


class ApplyError(ReconcilerError):
    """Apply refused to start or failed."""
