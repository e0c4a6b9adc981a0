"""Command line: click commands only. Each command lives in its own module and stays thin;
the root group (``common.cli``) imports a command's module only when that command runs."""

from __future__ import annotations

import os
import sys

import click

from reconciler.cli.common import EXIT_ERROR, cli


def main() -> None:
    try:
        os.getcwd()  # every command resolves paths against it
    except FileNotFoundError:
        click.echo("error: the current directory no longer exists (deleted or moved)", err=True)
        click.echo("hint: cd into the project directory again", err=True)
        sys.exit(EXIT_ERROR)
    cli(prog_name="reconciler")


__all__ = ["cli", "main"]
