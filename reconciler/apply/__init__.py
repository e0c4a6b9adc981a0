"""Apply: execute a plan's changes against a workspace, safely and in order."""

from reconciler.apply.executor import execute, serialization_key
from reconciler.apply.safety import check_destructive
from reconciler.runtime.result import ApplyResult, ChangeResult, Outcome
from reconciler.runtime.settings import COMMIT_TAG, DEFAULT_PARALLELISM, ApplySettings

__all__ = [
    "COMMIT_TAG",
    "DEFAULT_PARALLELISM",
    "ApplyResult",
    "ApplySettings",
    "ChangeResult",
    "Outcome",
    "check_destructive",
    "execute",
    "serialization_key",
]
