"""Command line: click commands only. Each command lives in its own module and stays thin;
the root group (``common.cli``) imports a command's module only when that command runs."""

from __future__ import annotations

from reconciler.cli.common import cli


def main() -> None:
    cli(prog_name="reconciler")


__all__ = ["cli", "main"]
