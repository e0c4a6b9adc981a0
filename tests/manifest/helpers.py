"""Small projects written into a temporary directory, and the CLI run against them."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from reconciler.cli import cli

PROJECT = """\
project: demo
default_target: sb
variables:
  catalog: {default: main}
  nothing: {description: has no default}
targets:
  sb: {type: sandbox}
  dbx: {type: databricks, host: "https://example.cloud.databricks.com"}
  ml: {type: mlflow, tracking_uri: "sqlite:///x.db"}
"""


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None


def write_project(
    root: Path, files: Mapping[str, str | bytes], project: str | None = PROJECT
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if project is not None:
        (root / "reconciler.yaml").write_text(project, encoding="utf-8")
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def run_cli(args: Sequence[str], cwd: Path) -> Outcome:
    """Run ``reconciler ARGS`` in ``cwd`` (paths in messages are relative to it)."""
    before = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=True)
    finally:
        os.chdir(before)
    exc = result.exception
    if isinstance(exc, SystemExit):
        exc = None
    return Outcome(result.exit_code, result.stdout, result.stderr, exc)
