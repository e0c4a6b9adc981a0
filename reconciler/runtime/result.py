"""What an apply did, change by change: applied, failed (with the API's message) or skipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.model.changes import Change
from reconciler.model.errors import ReconcilerError


class Outcome(StrEnum):
    APPLIED = "applied"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class ChangeResult:
    change: Change
    outcome: Outcome
    message: str | None = None
    seconds: float = 0.0

    @property
    def address(self) -> str:
        return self.change.address


@dataclass
class ApplyResult:
    results: list[ChangeResult] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    def of(self, outcome: Outcome) -> list[ChangeResult]:
        return [r for r in self.results if r.outcome is outcome]

    @property
    def applied(self) -> list[ChangeResult]:
        return self.of(Outcome.APPLIED)

    @property
    def failed(self) -> list[ChangeResult]:
        return self.of(Outcome.FAILED)

    @property
    def skipped(self) -> list[ChangeResult]:
        return self.of(Outcome.SKIPPED)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped and not self.interrupted

    def summary_lines(self) -> list[str]:
        """The closing summary: counts, then each failure and skip with its reason."""
        head = (
            f"Apply {'complete' if self.ok else 'incomplete'}: {len(self.applied)} applied,"
            f" {len(self.failed)} failed, {len(self.skipped)} skipped in {self.seconds:.1f}s."
        )
        lines = [head]
        lines += [f"  failed   {r.address}: {r.message}" for r in self.failed]
        lines += [f"  skipped  {r.address}: {r.message}" for r in self.skipped]
        if not self.ok:
            lines.append(
                "Re-run apply to finish: it plans from what is live, so applied changes"
                " are not repeated."
            )
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "results": [
                {
                    "address": r.address,
                    "action": r.change.action.value,
                    "outcome": r.outcome.value,
                    "message": r.message,
                    "seconds": round(r.seconds, 3),
                }
                for r in self.results
            ],
        }


def describe_error(error: BaseException) -> str:
    """One line a user can act on, carrying the API's own message."""
    # Imported here: the SDK takes seconds to import and most commands never fail this way.
    import requests
    from databricks.sdk.errors.base import DatabricksError

    if isinstance(error, TimeoutError) and isinstance(error.__cause__, DatabricksError):
        error = error.__cause__
    if isinstance(error, ReconcilerError):
        text = error.message
        return f"{text} (hint: {error.hint})" if error.hint else text
    if isinstance(error, DatabricksError):
        code = error.error_code or type(error).__name__
        # The SDK appends its config (host, auth type) to auth errors: keep the API's words.
        return f"{code}: {str(error).split('. Config:')[0].strip()}"
    if isinstance(error, requests.RequestException):
        return f"cannot reach the workspace: {type(error).__name__}"
    return f"{type(error).__name__}: {error}"
