"""An apply killed at any point, then run again, converges: nothing duplicated, nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from apply.e2e_helpers import FAST_DELAYS, fast_sandbox, live_client, plan_exit, run, seed

from reconciler.adapters.databricks.client import session_of
from reconciler.adapters.databricks.workspace import DatabricksWorkspace


def kill_apply_at(project: Path, event: str, nth: int, address_part: str = "") -> list[str]:
    """Run apply in a subprocess and SIGKILL it at the ``nth`` matching progress event."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    env.update(FAST_DELAYS, RECONCILER_SANDBOX_SLOW_READINESS="0.8")
    cmd = [
        sys.executable,
        "-m",
        "reconciler",
        "--project",
        str(project),
        "--log-format",
        "json",
        "apply",
        "--auto-approve",
    ]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    seen: list[str] = []
    matches = 0
    for line in proc.stderr:
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        if "address" not in record:
            continue
        seen.append(f"{record['event']} {record['address']}")
        if record["event"] == event and address_part in record["address"]:
            matches += 1
            if matches == nth:
                proc.kill()
                break
    proc.wait(timeout=30)
    assert matches == nth, f"the apply ended before the kill point: {seen}"
    assert proc.returncode == -9
    return seen


class Crash(BaseException):
    """The process dies: not an Exception, so no retry loop or executor catches it."""


class CrashingAdapter(requests.adapters.HTTPAdapter):
    """Lets ``writes`` write calls through, then fails every request, as a dead process."""

    def __init__(self, writes: int) -> None:
        super().__init__()
        self.left = writes
        self.lock = threading.Lock()

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            if self.left <= 0:
                raise Crash()
            if request.method != "GET":
                self.left -= 1
        return super().send(request, *args, **kwargs)


@pytest.mark.parametrize("writes", [1, 3, 6, 10])
def test_apply_dying_after_n_writes_converges_on_rerun(
    example_project: Path, monkeypatch: pytest.MonkeyPatch, writes: int
) -> None:
    fast_sandbox(monkeypatch)
    seed(example_project)
    original = DatabricksWorkspace.prepare_writes

    def crashing(workspace: DatabricksWorkspace) -> None:
        original(workspace)
        session = session_of(workspace.client)
        assert session is not None
        session.mount("http://", CrashingAdapter(writes))

    monkeypatch.setattr(DatabricksWorkspace, "prepare_writes", crashing)
    with pytest.raises(Crash):
        run(example_project, "apply", "--auto-approve")
    monkeypatch.setattr(DatabricksWorkspace, "prepare_writes", original)
    assert plan_exit(example_project)[0] == 2, "the crash left work to do"
    assert_converges(example_project)


def test_killed_apply_converges_on_rerun(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL while the serving endpoint's config update is being waited for."""
    fast_sandbox(monkeypatch)
    seed(example_project)
    kill_apply_at(example_project, "apply.waiting", 1, "serving_endpoint")
    assert_converges(example_project)


def assert_converges(project: Path) -> None:
    rerun = run(project, "apply", "--auto-approve")
    assert rerun.exit_code == 0, rerun.output
    code, output = plan_exit(project)
    assert code == 0, output
    with live_client(project) as client:
        names = [e.name for e in client.serving_endpoints.list()]
        assert sorted(names) == sorted(set(names)) and "support-intent" in names
        assert len(names) == 6  # three pay-per-token endpoints + our three
        assert [e.name for e in client.vector_search_endpoints.list_endpoints()] == ["docs-vs"]
        indexes = list(client.vector_search_indexes.list_indexes("docs-vs"))
        assert [i.name for i in indexes] == ["main.support.docs_index"]
        versions = list(client.model_versions.list("main.support.intent_classifier"))
        assert len(versions) == 3  # apply never registers versions
        ep = client.serving_endpoints.get("support-intent")
        tags = {t.key: t.value for t in ep.tags or []}
        assert tags["cost_center"] == "cc-4711"
