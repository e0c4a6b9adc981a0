"""The example project applied to a sandbox, for drift and import tests.

The sandbox runs in the test (millisecond delays); ``stop()`` hands its state directory over
to the CLI, whose ``sandbox`` target starts its own server on the same directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from databricks.sdk import WorkspaceClient
from fixtures.project import copy_example_project

import reconciler.plan  # noqa: F401 - import order: plan before workspace
from reconciler.adapters.databricks.client import sandbox_client
from reconciler.adapters.databricks.workspace import DatabricksWorkspace
from reconciler.apply import ApplySettings, execute
from reconciler.cli import cli
from reconciler.commands.plan import PlanResult, make_plan
from reconciler.manifest import load_project
from reconciler.sandbox import SandboxConfig, SandboxServer, register_versions_up_to

FAST_APPLY = ApplySettings(poll_initial=0.01, poll_max=0.05, project="support-assistant")
MODEL = "main.support.intent_classifier"
INDEX = "main.support.docs_index"
ENDPOINT = "support-intent"
LLM = "databricks-meta-llama-3-3-70b-instruct"


@dataclass
class LiveProject:
    root: Path
    server: SandboxServer
    sdk: WorkspaceClient
    workspace: DatabricksWorkspace = field(init=False)

    def __post_init__(self) -> None:
        self.workspace = DatabricksWorkspace(sandbox_client(self.server.url))

    def plan(self, target: str = "sandbox") -> PlanResult:
        return make_plan(load_project(self.root), target, workspace=self.workspace)

    def apply(self) -> None:
        result = self.plan()
        outcome = execute(result.plan, self.workspace, result.live, settings=FAST_APPLY)
        failed = [r for r in outcome.results if r.outcome.value != "applied"]
        assert not failed, failed

    def stop(self) -> None:
        self.server.stop()

    def cli(self, *args: str, **kwargs: Any) -> Result:
        """Run the CLI on the project (the in-test server must be stopped first)."""
        return CliRunner().invoke(cli, ["--project", str(self.root), *args], **kwargs)


def start(tmp_path: Path, *, apply: bool = True) -> LiveProject:
    root = copy_example_project(tmp_path / "project")
    server = SandboxServer(root / ".reconciler" / "sandbox", config=SandboxConfig.fast())
    server.start()
    live = LiveProject(root, server, sandbox_client(server.url))
    register_versions_up_to(live.sdk, MODEL, 3)
    register_versions_up_to(live.sdk, "main.support.ticket_summarizer", 1)
    if apply:
        live.apply()
    return live
