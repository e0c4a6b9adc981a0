"""Command line: click commands only. Each command lives in its own module and stays thin."""

from __future__ import annotations

from reconciler.cli.common import cli

# Each module below registers its commands on `cli` when imported (one line per module).
# isort: off
from reconciler.cli import drift as _drift  # noqa: F401
from reconciler.cli import gitops as _gitops  # noqa: F401
from reconciler.cli import import_ as _import  # noqa: F401
from reconciler.cli import validate as _validate  # noqa: F401
from reconciler.cli import schema as _schema  # noqa: F401
from reconciler.cli import sandbox as _sandbox  # noqa: F401
from reconciler.cli import plan as _plan  # noqa: F401
from reconciler.cli import apply as _apply  # noqa: F401
from reconciler.cli import unlock as _unlock  # noqa: F401
# isort: on


def main() -> None:
    cli(prog_name="reconciler")


__all__ = ["cli", "main"]
