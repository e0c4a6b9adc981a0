"""The library API: ``plan``, ``apply``, ``drift``, ``import``, ``unlock`` and the sandbox
helpers, as calls the CLI and tests make. The CLI only parses options, calls these, renders and
picks the exit code."""

from reconciler.commands.apply import ApplyRequest, ApplyRun, run_apply
from reconciler.commands.drift import drift
from reconciler.commands.importing import import_from, write_import
from reconciler.commands.plan import PlanResult, make_plan
from reconciler.commands.unlock import Unlocked, unlock_target

__all__ = [
    "ApplyRequest",
    "ApplyRun",
    "PlanResult",
    "Unlocked",
    "drift",
    "import_from",
    "make_plan",
    "run_apply",
    "unlock_target",
    "write_import",
]
