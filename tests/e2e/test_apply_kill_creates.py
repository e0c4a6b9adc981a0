"""The kill suite over every kind's create path: ownership is never lost.

``reconciler apply`` runs as a process of its own (forked from a fork server that has the tool
imported) against a served sandbox (a Databricks target); the sandbox kills it with SIGKILL at
one request of one create path: before the marker or intent is
written, before the create call, once the create has been answered, during the wait, before and
after the tags. The re-run then converges (the plan after it is empty, nothing was created
twice or taken for someone else's) and every asset the tool created carries its marker.
"""

from __future__ import annotations

import multiprocessing.process
import os
import re
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from apply.e2e_helpers import cli_process, run
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound
from fixtures.project import copy_example_project

from reconciler.adapters.databricks.client import ClientSettings, sandbox_client
from reconciler.apply.workspace_lock import lock_path
from reconciler.sandbox import SandboxServer, register_versions_up_to
from reconciler.sandbox.api import ApiError

PROJECT = "support-assistant"
CLF, SUM, NEW = (
    "main.support.intent_classifier",
    "main.support.ticket_summarizer",
    "main.support.new_model",
)
LLAMA = "databricks-meta-llama-3-3-70b-instruct"
INDEX = "main.support.docs_index"
UC_TAGS = "/api/2.1/unity-catalog/securable-tags/FUNCTION/"
MODELS = "/api/2.1/unity-catalog/models/"
SERVING = "/api/2.0/serving-endpoints"
VS = "/api/2.0/vector-search/endpoints"
INDEXES = "/api/2.0/vector-search/indexes"


@dataclass(frozen=True)
class KillPoint:
    """Kill apply at the first request matching ``method`` + ``path`` (a regex) whose body
    holds ``body_has`` (if given), once a request matching ``after_seen`` has been answered;
    ``before`` the request is served (it then changes nothing) or after it."""

    method: str
    path: str
    before: bool
    body_has: str = ""
    after_seen: tuple[str, str] | None = None
    address: str = ""
    """The asset this point is on, whose planned action after the kill must not be a
    create or a takeover when it exists."""


POINTS: dict[str, KillPoint] = {
    # registered model: tags (the marker) in the create call
    "model before create": KillPoint(
        "POST", r"/registered-models/create$", True, address=f"registered_model.{NEW}"
    ),
    "model create answered": KillPoint(
        "POST", r"/registered-models/create$", False, address=f"registered_model.{NEW}"
    ),
    # alias: the inventory marker on its model, before the alias
    "alias before marker": KillPoint("PATCH", UC_TAGS + re.escape(CLF), True, "reconciler.aliases"),
    "alias before create": KillPoint("PUT", re.escape(MODELS + CLF) + "/aliases/champion$", True),
    "alias create answered": KillPoint(
        "PUT",
        re.escape(MODELS + CLF) + "/aliases/champion$",
        False,
        address=f"model_alias.{CLF}@champion",
    ),
    # serving endpoint: tags (the marker) in the create call, then the wait
    "serving before create": KillPoint("POST", SERVING + "$", True),
    "serving create answered": KillPoint(
        "POST", SERVING + "$", False, address="serving_endpoint.support-intent"
    ),
    "serving during wait": KillPoint(
        "GET",
        SERVING + "/support-intent$",
        True,
        after_seen=("POST", SERVING + "$"),
        address="serving_endpoint.support-intent",
    ),
    # quota: the marker on its endpoint, before the rate limits
    "quota before marker": KillPoint("PATCH", f"{SERVING}/{LLAMA}/tags$", True),
    "quota before limits": KillPoint("PUT", f"{SERVING}/{LLAMA}/ai-gateway$", True),
    "quota limits answered": KillPoint(
        "PUT", f"{SERVING}/{LLAMA}/ai-gateway$", False, address=f"quota.{LLAMA}"
    ),
    # Vector Search endpoint: no tags at create, so an intent record first
    "vs before intent": KillPoint("POST", r"/api/2.0/workspace/import$", True, "/intents/"),
    "vs before create": KillPoint("POST", VS + "$", True),
    "vs create answered": KillPoint(
        "POST", VS + "$", False, address="vector_search_endpoint.docs-vs"
    ),
    "vs during wait": KillPoint(
        "GET",
        VS + "/docs-vs$",
        True,
        after_seen=("POST", VS + "$"),
        address="vector_search_endpoint.docs-vs",
    ),
    "vs before tags": KillPoint(
        "PATCH", VS + "/docs-vs/tags$", True, address="vector_search_endpoint.docs-vs"
    ),
    "vs tags answered": KillPoint(
        "PATCH", VS + "/docs-vs/tags$", False, address="vector_search_endpoint.docs-vs"
    ),
    # index: the marker on its endpoint, before the index
    "index before marker": KillPoint("PATCH", VS + "/docs-vs/tags$", True, "reconciler.index."),
    "index before create": KillPoint("POST", INDEXES + "$", True),
    "index create answered": KillPoint(
        "POST", INDEXES + "$", False, address=f"vector_index.{INDEX}"
    ),
    "index during wait": KillPoint(
        "GET",
        re.escape(f"{INDEXES}/{INDEX}") + "$",
        True,
        after_seen=("POST", INDEXES + "$"),
        address=f"vector_index.{INDEX}",
    ),
}


class Killer:
    """Wraps the sandbox's dispatch: SIGKILLs the apply process at the kill point."""

    def __init__(self, server: SandboxServer, point: KillPoint) -> None:
        self.point = point
        self.proc: multiprocessing.process.BaseProcess | None = None
        self.started = threading.Event()
        self.killed = threading.Event()
        self.seen = point.after_seen is None
        self.lock = threading.Lock()
        self.original = server.dispatch
        server.dispatch = self.dispatch  # type: ignore[method-assign]

    def _matches(self, method: str, path: str, body: dict[str, Any]) -> bool:
        point = self.point
        return (
            self.seen
            and method == point.method
            and re.search(point.path, path) is not None
            and point.body_has in repr(body)
        )

    def _kill(self) -> None:
        """SIGKILL: once sent, the process runs no more code (it never sees this answer)."""
        self.started.wait(30)
        assert self.proc is not None and self.proc.pid is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.killed.set()

    def dispatch(
        self, route: Any, params: Any, method: str, path: str, query: str, body: Any
    ) -> Any:
        if self.killed.is_set():
            return self.original(route, params, method, path, query, body)
        with self.lock:
            hit = not self.killed.is_set() and self._matches(method, path, body)
            if hit and self.point.before:
                self._kill()
                raise ApiError(503, "TEMPORARILY_UNAVAILABLE", "the client is gone")
        result = self.original(route, params, method, path, query, body)
        with self.lock:
            seen = self.point.after_seen
            if seen and method == seen[0] and re.search(seen[1], path):
                self.seen = True
            if hit and not self.killed.is_set():
                self._kill()
        return result


@pytest.fixture
def ws(tmp_path: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example project plus a model without aliases (the tool creates it), with a
    Databricks target on the served sandbox; the pipeline registered the versions."""
    root = copy_example_project(tmp_path / "project")
    config = yaml.safe_load((root / "reconciler.yaml").read_text())
    config["targets"]["ws"] = {"type": "databricks", "host": sandbox.url}
    config["default_target"] = "ws"
    (root / "reconciler.yaml").write_text(yaml.safe_dump(config))
    new_model = {"registered_models": [{"name": NEW, "comment": "created by the tool"}]}
    (root / "manifests" / "new_model.yaml").write_text(yaml.safe_dump(new_model))
    monkeypatch.setenv("DATABRICKS_TOKEN", "any-token")
    monkeypatch.setenv("DATABRICKS_AUTH_TYPE", "pat")
    register_versions_up_to(client_of(sandbox), CLF, 3)
    register_versions_up_to(client_of(sandbox), SUM, 1)
    return root


def client_of(sandbox: SandboxServer) -> WorkspaceClient:
    return sandbox_client(sandbox.url, ClientSettings(retry_timeout_seconds=5))


def killed_apply(project: Path, killer: Killer) -> None:
    log = project.parent / "killed-apply.log"
    killer.proc = cli_process(
        ["--project", str(project), "apply", "-t", "ws", "--auto-approve"], log
    )
    killer.started.set()
    killer.proc.join(90)
    output = log.read_text()
    assert killer.killed.is_set(), f"the apply ended before the kill point:\n{output}"
    assert killer.proc.exitcode == -signal.SIGKILL, output


def tags_of(items: Any) -> dict[str, str]:
    return {t["key"]: t.get("value") or "" for t in items or []}


def assert_every_created_asset_is_marked(w: WorkspaceClient) -> None:
    model_tags = "/api/2.0/mlflow/unity-catalog/registered-models/get"
    for model in (NEW, CLF, SUM):
        found = w.api_client.do("GET", model_tags, query={"name": model})
        tags = tags_of(found["registered_model"]["tags"])
        if model == NEW:  # the other two were created by the training pipeline
            assert tags.get("reconciler.project") == PROJECT, (model, tags)
        else:
            assert tags.get(f"reconciler.aliases.{PROJECT}"), (model, tags)
    serving = w.api_client.do("GET", f"{SERVING}/support-intent")
    assert tags_of(serving["tags"]).get("reconciler.project") == PROJECT
    llama = w.api_client.do("GET", f"{SERVING}/{LLAMA}")
    assert tags_of(llama["tags"]).get("reconciler.quota") == PROJECT
    vs = tags_of(w.api_client.do("GET", f"{VS}/docs-vs")["custom_tags"])
    assert vs.get("reconciler.project") == PROJECT
    assert vs.get(f"reconciler.index.{INDEX}") == PROJECT
    assert [e.name for e in w.vector_search_endpoints.list_endpoints()] == ["docs-vs"]
    assert [i.name for i in w.vector_search_indexes.list_indexes("docs-vs")] == [INDEX]
    assert sorted(e.name or "" for e in w.serving_endpoints.list()).count("support-intent") == 1


def exists(w: WorkspaceClient, address: str) -> bool:
    kind, _, name = address.partition(".")
    paths: dict[str, Callable[[], object]] = {
        "registered_model": lambda: w.registered_models.get(name),
        "model_alias": lambda: w.model_versions.get_by_alias(*name.split("@")),
        "serving_endpoint": lambda: w.serving_endpoints.get(name),
        "quota": lambda: w.serving_endpoints.get(name),
        "vector_search_endpoint": lambda: w.vector_search_endpoints.get_endpoint(name),
        "vector_index": lambda: w.vector_search_indexes.get_index(name),
    }
    try:
        paths[kind]()
    except NotFound:
        return False
    return True


@pytest.mark.parametrize("point", list(POINTS), ids=[p.replace(" ", "-") for p in POINTS])
def test_a_kill_on_any_create_path_converges_and_loses_no_marker(
    ws: Path, sandbox: SandboxServer, point: str
) -> None:
    killer = Killer(sandbox, POINTS[point])
    killed_apply(ws, killer)
    w = client_of(sandbox)
    # The killed run's lease stays in the workspace; its holder is dead on this host, so the
    # re-run takes it over at once.
    assert w.workspace.get_status(lock_path(PROJECT, "ws")) is not None
    replan = run(ws, "plan", "--format", "json")
    assert replan.exit_code == 0, replan.output
    actions = {c["address"]: c["action"] for c in yaml.safe_load(replan.stdout)["changes"]}
    address = POINTS[point].address
    if address and exists(w, address):
        # Created by the killed run: continued, never re-created or taken over.
        assert actions.get(address) not in ("create", "adopt", "replace"), actions
    rerun = run(ws, "apply", "--auto-approve")
    assert rerun.exit_code == 0, rerun.output
    empty = run(ws, "plan", "--detailed-exitcode")
    assert empty.exit_code == 0, empty.output
    assert_every_created_asset_is_marked(w)
