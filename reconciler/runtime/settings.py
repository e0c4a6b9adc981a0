"""Knobs of one apply run: how wide, how long to wait, how long to keep retrying."""

from __future__ import annotations

from collections.abc import Mapping
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
    timeout: float | None = None
    """Whole-apply budget; changes still queued when it runs out are skipped. None: each
    change is bounded by its own timeout only."""
    change_timeout: float | None = None
    """One change of any kind, waits included; None: the kind's timeout (``timeouts``, else
    the kind's default: serving config updates and index builds take many minutes)."""
    timeouts: Mapping[str, float] = field(default_factory=dict)
    """Kind -> seconds one change of that kind may take (target settings and ``--change-timeout
    KIND=...``), over the kind's default."""
    retry_budget: float = 300.0
    """Total time one API call may spend being retried (429, 5xx, dropped connections, a busy
    endpoint)."""
    poll_initial: float = 0.2
    poll_max: float = 10.0
    poll_factor: float = 1.5
    overlap_waits: bool = True
    """Waiting changes give their work slot back. False = the strictly sequential path at
    parallelism 1 (a benchmark baseline; nobody needs it in practice)."""
    project: str = ""
    commit: str | None = None
    extra_tags: dict[str, str] = field(default_factory=dict)

    def timeout_for(self, kind: str, default: float) -> float:
        """Seconds one change of ``kind`` may take: set for the kind, else for every change,
        else the kind's ``default``."""
        if kind in self.timeouts:
            return self.timeouts[kind]
        return self.change_timeout if self.change_timeout is not None else default

    def provenance_tags(self) -> dict[str, str]:
        """Tags every applied endpoint carries: the owning project and the commit."""
        tags = dict(self.extra_tags)
        if self.project:
            tags[OWNER_TAG] = self.project
        if self.commit:
            tags[COMMIT_TAG] = self.commit
        return tags
