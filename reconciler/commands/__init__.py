"""The library API: ``plan``, ``apply``, ``drift``, ``import`` and the sandbox helpers, as calls
the CLI and tests make. The CLI only parses options, calls these, renders and picks the exit
code."""

from reconciler.commands.apply import ApplyRequest, ApplyRun, run_apply
from reconciler.commands.drift import drift
from reconciler.commands.importing import import_from, write_import
from reconciler.commands.plan import PlanResult, make_plan

__all__ = [
    "ApplyRequest",
    "ApplyRun",
    "PlanResult",
    "drift",
    "import_from",
    "make_plan",
    "run_apply",
    "write_import",
]
