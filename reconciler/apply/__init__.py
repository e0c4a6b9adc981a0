"""Apply: execute a plan's changes against a workspace, safely and in order."""

import importlib
from typing import TYPE_CHECKING

from reconciler.apply.result import ApplyResult, ChangeResult, Outcome
from reconciler.apply.safety import check_destructive

if TYPE_CHECKING:
    from reconciler.apply.executor import execute, serialization_key
from reconciler.apply.settings import COMMIT_TAG, DEFAULT_PARALLELISM, ApplySettings

_LAZY = {"execute": "reconciler.apply.executor", "serialization_key": "reconciler.apply.executor"}

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


def __getattr__(name: str) -> object:
    """Load on first use: these pull in databricks-sdk, which takes seconds to import."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
