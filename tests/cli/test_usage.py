"""Command-line usage errors exit 1, with click's usage message; ``--help`` exits 0.

Exit 2 means "changes" (plan) or "drift" (drift): a typo in a CI script must never pass for
drift. The command tree is walked, so a command added later is covered without a new test.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from reconciler.cli import cli

BAD_NUMBER = "not-a-number"


def walk(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, click.Group):
        for name in command.list_commands(click.Context(command)):
            yield from walk(command_at((*path, name)), (*path, name))


def command_at(path: tuple[str, ...]) -> click.Command:
    """Through ``get_command``: the root group loads a command's module on first use."""
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None, name
        command = found
    return command


PATHS = list(walk(cli))
GROUPS = [p for p in PATHS if isinstance(command_at(p), click.Group)]
LEAVES = [p for p in PATHS if not isinstance(command_at(p), click.Group)]


def dummy_arguments(command: click.Command) -> list[str]:
    """A value for each required argument, so the error under test is the only one."""
    return [
        "main.s.m"
        for p in command.params
        if isinstance(p, click.Argument) and p.required and p.nargs == 1
    ]


def bad_values() -> list[tuple[tuple[str, ...], str, str]]:
    """(command path, option, bad value) for every choice and number option of every command."""
    cases = []
    for path in PATHS:
        for param in command_at(path).params:
            if not isinstance(param, click.Option) or param.is_flag or param.count:
                continue
            name = max(param.opts, key=len)
            if isinstance(param.type, click.Choice):
                cases.append((path, name, "no-such-choice"))
            elif isinstance(param.type, click.types._NumberParamTypeBase):
                cases.append((path, name, BAD_NUMBER))
    return cases


BAD_VALUES = bad_values()


def invoke(args: list[str]) -> click.testing.Result:
    return CliRunner().invoke(cli, args, catch_exceptions=False, prog_name="reconciler")


def assert_usage_error(result: click.testing.Result, says: str, *, usage: bool = True) -> None:
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert not usage or "Usage: reconciler" in result.stderr, result.stderr
    assert says in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_the_walk_finds_every_command() -> None:
    names = {" ".join(p) for p in PATHS}
    assert {"plan", "apply", "drift", "validate", "import", "sandbox serve", "gitops"} <= names
    assert len(BAD_VALUES) >= 8
    assert any(value == BAD_NUMBER for _, _, value in BAD_VALUES)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "reconciler")
def test_help_exits_0(path: tuple[str, ...]) -> None:
    result = invoke([*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: reconciler {' '.join(path)}".rstrip())


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "reconciler")
def test_unknown_option_exits_1(path: tuple[str, ...]) -> None:
    assert_usage_error(invoke([*path, "--no-such-option"]), "No such option '--no-such-option'")


@pytest.mark.parametrize(
    ("path", "option", "value"),
    BAD_VALUES,
    ids=[f"{' '.join(p)} {o}" for p, o, _ in BAD_VALUES],
)
def test_bad_option_value_exits_1(path: tuple[str, ...], option: str, value: str) -> None:
    args = [*path, option, value, *dummy_arguments(command_at(path))]
    assert_usage_error(invoke(args), f"Invalid value for '{option}'")


@pytest.mark.parametrize("path", GROUPS, ids=lambda p: " ".join(p) or "reconciler")
def test_unknown_command_and_no_command_exit_1(path: tuple[str, ...]) -> None:
    assert_usage_error(invoke([*path, "no-such-command"]), "No such command 'no-such-command'")
    bare = invoke(list(path))
    assert bare.exit_code == 1, bare.output
    assert "Usage: reconciler" in bare.stderr  # the group's help, on stderr


def test_missing_argument_exits_1() -> None:
    with_arguments = [
        p
        for p in LEAVES
        if any(isinstance(x, click.Argument) and x.required for x in command_at(p).params)
    ]
    assert with_arguments, "some command takes a required argument"
    for path in with_arguments:
        assert_usage_error(invoke(list(path)), "Missing argument")


def test_an_option_missing_its_value_exits_1() -> None:
    # click prints no usage line for this one (it has no command context yet)
    result = invoke(["plan", "--target"])
    assert_usage_error(result, "Option '--target' requires an argument", usage=False)


@pytest.mark.parametrize(
    ("module", "prog"), [("reconciler", "reconciler"), ("reconciler.gitops", "python -m")]
)
def test_a_real_process_exits_1_on_a_typo(module: str, prog: str) -> None:
    """Through ``main()`` and ``python -m reconciler.gitops`` too (its own root group)."""
    done = subprocess.run(
        [sys.executable, "-m", module, "--no-such-option"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert f"Usage: {prog}" in done.stderr
    assert "No such option" in done.stderr


def test_a_deleted_working_directory_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    script = 'cd "$1" && rmdir "$1" && exec "$2" -c "from reconciler.cli import main; main()" plan'
    done = subprocess.run(
        ["sh", "-c", script, "sh", str(gone), sys.executable],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "error: the current directory no longer exists" in done.stderr
    assert "Traceback" not in done.stderr


def test_every_help_text_reads_cleanly() -> None:
    """Help is the first documentation people read: no text left over from an edit (the
    --change-timeout help read "Over the target's timeouts:.")."""
    for path in PATHS:
        result = CliRunner().invoke(cli, [*path, "--help"], terminal_width=1000)
        assert result.exit_code == 0, result.output
        text = " ".join(result.output.split())
        cleaned = text.replace("...", "\u2026")  # click's "[ARGS]..." and ellipses
        for broken in (":.", ",.", " .", " ,", "( ", " )"):
            assert broken not in cleaned, f"{' '.join(path)} --help: {broken!r} in {text!r}"


def test_import_help_says_unowned_imports_are_adopted() -> None:
    """Since adoption, a plan after import is not empty for assets nobody owns yet."""
    text = " ".join(CliRunner().invoke(cli, ["import", "--help"]).output.split())
    assert "planning against the written files is empty" not in text
    assert "adopt without diffs" in text
