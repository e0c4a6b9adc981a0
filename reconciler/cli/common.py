"""The root command group, shared options and the one place errors become exit codes."""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from reconciler import __version__
from reconciler.model.errors import ReconcilerError
from reconciler.runtime.logs import configure_logging

P = ParamSpec("P")
R = TypeVar("R")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2

FORMATS = ("text", "json", "markdown")
"""``reconciler.render.Format``'s values (``--format``); not imported from there, since the
renderers take longer to load than ``--help`` may."""

COMMANDS: dict[str, tuple[str, str]] = {
    "apply": (
        "reconciler.cli.apply:apply",
        "Apply the plan: create, update, adopt and (with --allow-delete) delete assets until"
        " the workspace matches the manifests.",
    ),
    "drift": (
        "reconciler.cli.drift:drift",
        "Compare the live workspace with the manifests; list each drifted field with its live"
        " and manifest values, and the declared assets that are not healthy (a failed update, a"
        " stopped endpoint, an offline index) with the workspace's message.",
    ),
    "gitops": (
        "reconciler.cli.gitops:gitops",
        "Post plans on pull requests and keep drift issues current (used by the workflows).",
    ),
    "import": (
        "reconciler.cli.import_:import_",
        "Write manifests (one file per kind) for the live assets matching --kind and --name.",
    ),
    "plan": (
        "reconciler.cli.plan:plan",
        "Show the changes that would bring the target to the manifests' desired state, and the"
        " declared assets that are not healthy (with the workspace's message).",
    ),
    "sandbox": (
        "reconciler.cli.sandbox:sandbox",
        "A local workspace that speaks the Databricks REST API (no account needed).",
    ),
    "schema": (
        "reconciler.cli.schema:schema",
        "Generate the JSON Schemas of manifests and reconciler.yaml from the models.",
    ),
    "unlock": (
        "reconciler.cli.unlock:unlock",
        "Release the target's apply lock, printing who held it.",
    ),
    "validate": (
        "reconciler.cli.validate:validate",
        "Check the project file and manifests offline: syntax, fields, references, target rules.",
    ),
}
"""Each command: where it is defined, and the first sentence of its help (what ``--help``
lists). A command's module is imported only when the command runs (or shows its own help):
``reconciler --help`` loads none, ``validate`` not the workspace adapters.
``tests/cli/test_startup.py`` checks the sentences match the commands' docstrings."""


@dataclass
class Options:
    """Options common to every command, set on the root group."""

    project_dir: Path | None = None
    log_format: str = "console"
    verbose: int = 0
    connect_timeout: float | None = None
    read_timeout: float | None = None
    max_concurrency: int | None = None


def print_error(error: ReconcilerError) -> None:
    where = error.where
    prefix = f"error: {where}: " if where else "error: "
    click.echo(prefix + error.message, err=True)
    if error.hint:
        click.echo(f"hint: {error.hint}", err=True)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a ReconcilerError into one clear message and exit 1; tracebacks only with -v."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        ctx = click.get_current_context()
        opts = ctx.find_object(Options) or Options()
        try:
            return func(*args, **kwargs)
        except ReconcilerError as error:
            if opts.verbose:
                raise
            print_error(error)
            sys.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper


@contextmanager
def _usage_errors_exit_1() -> Iterator[None]:
    try:
        yield
    except click.UsageError as error:
        error.exit_code = EXIT_ERROR  # type: ignore[misc]  # per instance: keeps its show()
        raise


class ReconcilerGroup(click.Group):
    """Command-line usage errors (unknown option, missing argument, bad choice or number, no
    command) exit 1, still with click's usage message: exit 2 means changes or drift here, and
    a typo must never look like drift.

    Every usage error of a subcommand is raised while its group parses or invokes, so the
    root group is enough; subgroups are of this class too (``cls=ReconcilerGroup``) so that
    one run on its own (``python -m reconciler.gitops``) behaves the same.
    """

    group_class = type

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with _usage_errors_exit_1():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _usage_errors_exit_1():
            return super().invoke(ctx)


class LazyGroup(ReconcilerGroup):
    """The root group: commands load on first use, from ``COMMANDS``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, _, attr = COMMANDS[cmd_name][0].partition(":")
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            loaded = self.commands.get(name)
            if loaded is not None:
                if not loaded.hidden:
                    rows.append((name, loaded.get_short_help_str(limit)))
            else:  # shortened as click shortens a command's own help
                summary = click.Command(name, help=COMMANDS[name][1])
                rows.append((name, summary.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
@click.option(
    "--project",
    "project_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Project directory (default: the nearest directory with reconciler.yaml).",
)
@click.option(
    "--log-format",
    type=click.Choice(["console", "json"]),
    default="console",
    show_default=True,
    help="Log lines for people or for machines.",
)
@click.option("-v", "--verbose", count=True, help="More detail; tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, project_dir: Path | None, log_format: str, verbose: int) -> None:
    """GitOps for AI assets: registered models, aliases, serving endpoints, vector search
    and quotas on Databricks or any MLflow registry.

    \b
    Exit codes: 0 success / nothing to change, 1 error (command-line usage errors too),
    2 changes (plan --detailed-exitcode), drift or unhealthy assets (drift); never a typo.
    RECONCILER_ALLOWED_HOSTS (comma-separated workspace URLs): when set, a target
    whose host is not listed is refused before any request (sandbox targets excepted).
    """
    ctx.obj = Options(project_dir=project_dir, log_format=log_format, verbose=verbose)
    configure_logging(log_format, verbose)


def options() -> Options:
    ctx = click.get_current_context()
    found = ctx.find_object(Options)
    return found if found is not None else Options()


def _set_option(ctx: click.Context, param: click.Parameter, value: float | None) -> None:
    if value is not None and param.name:
        setattr(ctx.ensure_object(Options), param.name, value)


def network_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--connect-timeout`` and ``--read-timeout`` (seconds) for commands that call a
    workspace; they win over the target's settings in reconciler.yaml."""
    func = click.option(
        "--read-timeout",
        type=click.FloatRange(min=0, min_open=True, max=3600),
        metavar="SECONDS",
        expose_value=False,
        callback=_set_option,
        help="Wait this long for an answer to each request (default: the target's"
        " read_timeout, else 60).",
    )(func)
    return click.option(
        "--connect-timeout",
        type=click.FloatRange(min=0, min_open=True, max=600),
        metavar="SECONDS",
        expose_value=False,
        callback=_set_option,
        help="Wait this long for a connection to the workspace (default: the target's"
        " connect_timeout, else 10).",
    )(func)


def target_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``-t/--target`` (default: the project's default_target)."""
    return click.option(
        "-t", "--target", "target", default=None, help="Target name from reconciler.yaml."
    )(func)


def ref_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--ref REV``: the manifests as they were at a git revision (rollback, audits)."""
    return click.option(
        "--ref",
        "ref",
        default=None,
        metavar="REV",
        help="Read the manifests as they were at this git revision (from git objects; the "
        "working tree is not touched). The project file is read from the working tree.",
    )(func)


def max_concurrency_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--max-concurrency N``: the ceiling of read calls in flight (over the target's)."""
    return click.option(
        "--max-concurrency",
        type=click.IntRange(1, 256),
        metavar="N",
        expose_value=False,
        callback=_set_option,
        help="Most read calls in flight at once (default: the target's max_concurrency, else"
        " 64). Reads start at 8, grow while the workspace answers cleanly, halve on a 429 and"
        " wait its Retry-After.",
    )(func)


def format_option(for_markdown: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--format text|json|markdown``; ``for_markdown`` says where the markdown goes."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=FORMATS[0],
        show_default=True,
        help=f"text for people, json for machines, markdown for {for_markdown}.",
    )
