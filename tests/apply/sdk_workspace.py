"""A minimal Workspace over the real databricks-sdk write calls, for testing them in isolation
(the read side is the Plan issue's; these tests read back with the SDK directly)."""

from __future__ import annotations

from typing import ClassVar

from databricks.sdk import WorkspaceClient

from reconciler.adapters.databricks.client import ClientSettings, sandbox_client
from reconciler.adapters.databricks.workspace import apply_change
from reconciler.apply import ApplyResult, ApplySettings, execute
from reconciler.model.changes import Change, Plan, summarize
from reconciler.model.live import LiveAsset, LiveState, ReadRequest, Workspace
from reconciler.model.resources import KindName

FAST = ApplySettings(
    poll_initial=0.01, poll_max=0.05, retry_budget=20, change_timeout=30, project="demo"
)


class SdkWorkspace(Workspace):
    name: ClassVar[str] = "sdk"
    capabilities: ClassVar[frozenset[KindName]] = frozenset(KindName)

    def __init__(self, client: WorkspaceClient) -> None:
        self.client = client

    def read(self, request: ReadRequest) -> LiveState:
        raise NotImplementedError("reads are the Plan issue's")

    def apply_change(self, change: Change, live: LiveAsset | None) -> None:
        apply_change(self.client, change, live)


def client_for(url: str) -> WorkspaceClient:
    """Short SDK retries, so our policy decides (as the apply client is configured)."""
    return sandbox_client(url, ClientSettings(retry_timeout_seconds=1))


def run(client: WorkspaceClient, *changes: Change, **settings: object) -> ApplyResult:
    plan = Plan(target="sandbox", changes=changes, summary=summarize(changes))
    merged = ApplySettings(**{**FAST.__dict__, **settings})  # type: ignore[arg-type]
    return execute(plan, SdkWorkspace(client), settings=merged)
