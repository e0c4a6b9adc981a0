"""Driving the CLI against the example project's in-process sandbox (for the e2e tests)."""

from __future__ import annotations

import multiprocessing
import multiprocessing.process
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from databricks.sdk import WorkspaceClient

from reconciler.adapters.databricks.client import ClientSettings, sandbox_client
from reconciler.cli import cli
from reconciler.sandbox import SandboxConfig, SandboxServer, register_versions_up_to
from reconciler.sandbox.config import Delays

FAST_DELAYS = {
    f"RECONCILER_SANDBOX_DELAY_{k.upper()}": str(v) for k, v in Delays.fast().__dict__.items()
}


def fast_sandbox(monkeypatch: pytest.MonkeyPatch, **faults: str) -> None:
    """Millisecond state machines for the in-process sandbox target, plus faults by env."""
    for key, value in FAST_DELAYS.items():
        monkeypatch.setenv(key, value)
    for key, value in faults.items():
        monkeypatch.setenv(f"RECONCILER_SANDBOX_{key.upper()}", value)


def clear_faults(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("FAULT_RATE", "FAIL_OPERATIONS", "SLOW_READINESS", "FAULT_STATUS"):
        monkeypatch.delenv(f"RECONCILER_SANDBOX_{key}", raising=False)


def run(project: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--project", str(project), *args], catch_exceptions=False)


def seed(project: Path) -> None:
    result = run(project, "sandbox", "seed")
    assert result.exit_code == 0, result.output


def plan_exit(project: Path) -> tuple[int, str]:
    result = run(project, "plan", "--detailed-exitcode")
    return result.exit_code, result.output


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def state_dir(project: Path) -> Path:
    return project / ".reconciler" / "sandbox"


@contextmanager
def live_client(project: Path) -> Iterator[WorkspaceClient]:
    """A client on the project's sandbox state (no apply may run meanwhile)."""
    with SandboxServer(state_dir(project), config=SandboxConfig.fast()) as server:
        yield sandbox_client(server.url, ClientSettings(retry_timeout_seconds=5))


def with_databricks_target(project: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example ``project`` with a ``ws`` target of type databricks whose host is the
    sandbox served at ``url`` (a token in the environment), its model versions registered."""
    config = yaml.safe_load((project / "reconciler.yaml").read_text())
    config["targets"]["ws"] = {"type": "databricks", "host": url}
    (project / "reconciler.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("DATABRICKS_TOKEN", "any-token")
    monkeypatch.setenv("DATABRICKS_AUTH_TYPE", "pat")
    client = sandbox_client(url, ClientSettings(retry_timeout_seconds=5))
    register_versions_up_to(client, "main.support.intent_classifier", 3)
    register_versions_up_to(client, "main.support.ticket_summarizer", 1)
    return project


def live_endpoint(project: Path, endpoint: str) -> dict[str, Any]:
    """The serving endpoint as the API returns it (raw GET)."""
    with live_client(project) as client:
        raw = client.api_client.do("GET", f"/api/2.0/serving-endpoints/{endpoint}")
    assert isinstance(raw, dict)
    return raw


def live_entities(project: Path, endpoint: str) -> dict[str, dict[str, Any]]:
    """The endpoint's served entities as the API returns them, by name."""
    raw = live_endpoint(project, endpoint)
    return {str(e["name"]): e for e in raw["config"]["served_entities"]}


def counts(line: str) -> tuple[int, int, int]:
    found = re.search(r"(\d+) applied, (\d+) failed, (\d+) skipped", line)
    assert found, line
    a, f, s = found.groups()
    return int(a), int(f), int(s)


# --- the CLI in a process of its own, for the kill suites ----------------------------------

_FORKSERVER: Any = None


def _cli_main(args: list[str], env: dict[str, str], log: str) -> None:
    """The body of a forked CLI process: the environment given, output to ``log``."""
    os.environ.clear()
    os.environ.update(env)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    try:
        cli.main(args, prog_name="reconciler")
    except SystemExit as done:
        os._exit(done.code if isinstance(done.code, int) else 1)
    os._exit(0)


def cli_process(args: list[str], log: Path) -> multiprocessing.process.BaseProcess:
    """``reconciler ARGS`` as a separate OS process (kill it with SIGKILL like any other).

    Forked from a fork server that has already imported the tool and databricks-sdk, so
    each run skips the seconds an interpreter takes to import them; the environment is the
    test's own at the time of the call."""
    global _FORKSERVER
    if _FORKSERVER is None:
        _FORKSERVER = multiprocessing.get_context("forkserver")
        _FORKSERVER.set_forkserver_preload(["reconciler.cli", "databricks.sdk", __name__])
    process = _FORKSERVER.Process(target=_cli_main, args=(args, dict(os.environ), str(log)))
    process.start()
    return process
