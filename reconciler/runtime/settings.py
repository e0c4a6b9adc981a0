"""Knobs of one apply run: how wide, how long to wait, how long to keep retrying."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.model.live import OWNER_TAG

DEFAULT_PARALLELISM = 16
COMMIT_TAG = "reconciler.commit"
"""Tag key carrying the git commit an endpoint was last applied from (provenance)."""


@dataclass(frozen=True)
class ApplySettings:
    """Everything the executor and the adapters' write calls need to know about this run.

    Timeouts are seconds. ``poll_*`` shape the polling of long-running operations: the first
    poll after ``poll_initial``, then growing by ``poll_factor`` up to ``poll_max`` (the sandbox
    target polls fast; real workspaces settle in minutes).
    """

    parallelism: int = DEFAULT_PARALLELISM
    timeout: float = 3600.0
    """Whole-apply budget; changes still queued when it runs out are skipped."""
    change_timeout: float = 1800.0
    """One change, including its waits (serving config updates take minutes on Databricks)."""
    retry_budget: float = 600.0
    """Total time one API call may spend being retried (429, 5xx, busy endpoint)."""
    poll_initial: float = 0.2
    poll_max: float = 10.0
    poll_factor: float = 1.5
    overlap_waits: bool = True
    """Waiting changes give their work slot back. False = the strictly sequential path at
    parallelism 1 (a benchmark baseline; nobody needs it in practice)."""
    project: str = ""
    commit: str | None = None
    extra_tags: dict[str, str] = field(default_factory=dict)

    def provenance_tags(self) -> dict[str, str]:
        """Tags every applied endpoint carries: the owning project and the commit."""
        tags = dict(self.extra_tags)
        if self.project:
            tags[OWNER_TAG] = self.project
        if self.commit:
            tags[COMMIT_TAG] = self.commit
        return tags
