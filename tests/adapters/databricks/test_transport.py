"""One retry policy for every call (reads and writes), against the sandbox's faults: 500s,
503s, 429s with Retry-After, connections dropped before or after the call was served.

The SDK's own retry loop is off, so a budget is spent once; a create whose answer was lost is
followed by a read instead of a blind second POST.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import ApiClient
from databricks.sdk.errors import TemporarilyUnavailable

from reconciler.adapters.databricks.client import ClientSettings, sandbox_client
from reconciler.adapters.databricks.workspace import DatabricksWorkspace
from reconciler.apply import execute
from reconciler.model.changes import Action, Change, Plan, summarize
from reconciler.model.live import ReadRequest
from reconciler.model.resources import KindName
from reconciler.runtime.settings import ApplySettings
from reconciler.sandbox import FailRule, Faults, SandboxConfig, SandboxServer, register_version

FAST = ApplySettings(poll_initial=0.01, poll_max=0.05, retry_budget=20, project="demo")
MODEL = "main.s.model"


def server_with(
    factory: Callable[..., SandboxServer], rules: dict[str, FailRule], retry_after: int = 0
) -> SandboxServer:
    faults = Faults(retry_after=retry_after, fail_operations=rules)
    return factory(config=SandboxConfig(delays=SandboxConfig.fast().delays, faults=faults))


def test_the_sdk_internals_the_transport_relies_on_still_exist(sandbox: SandboxServer) -> None:
    """The transport shadows these per client; a renamed one would silently bring back the
    SDK's own retry loop (and its multiplied budget) or the minutes-long host probe."""
    from databricks.sdk._base_client import _BaseClient
    from databricks.sdk.config import Config

    assert callable(_BaseClient._perform) and callable(_BaseClient._is_retryable)
    assert callable(Config._resolve_host_metadata)
    client = sandbox_client(sandbox.url)
    assert isinstance(client.api_client, ApiClient)
    base = client.api_client._api_client
    assert isinstance(base, _BaseClient)
    assert base._http_timeout_seconds == (10.0, 60.0)
    assert base._is_retryable(ConnectionError()) is None
    assert base._perform.__name__ == "perform"


@pytest.mark.parametrize("status", [500, 503, "drop"])
def test_a_read_survives_one_500_503_or_dropped_connection(
    sandbox_factory: Callable[..., SandboxServer], status: int | str
) -> None:
    server = server_with(sandbox_factory, {"serving_endpoints.get": FailRule(status, times=1)})
    ws = DatabricksWorkspace(sandbox_client(server.url))
    name = "databricks-bge-large-en"
    live = ws.read(ReadRequest(assets=[(KindName.SERVING_ENDPOINT, name)]))
    assert f"serving_endpoint.{name}" in live.assets
    assert server.injector.injected == 1


def test_retry_after_is_honoured_and_the_sdk_does_not_retry_underneath(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    server = server_with(
        sandbox_factory, {"serving_endpoints.get": FailRule(429, times=2)}, retry_after=1
    )
    client = sandbox_client(server.url)
    started = time.monotonic()
    client.serving_endpoints.get("databricks-bge-large-en")
    assert time.monotonic() - started >= 2.0  # two Retry-After: 1
    assert server.injector.injected == 2


def test_one_budget_for_a_call_however_it_fails(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    """A lasting 503 gives up when the call's budget is spent, once: no SDK loop below it."""
    server = server_with(sandbox_factory, {"serving_endpoints.get": FailRule(503)})
    client = sandbox_client(server.url, ClientSettings(retry_timeout_seconds=2))
    started = time.monotonic()
    with pytest.raises(TemporarilyUnavailable, match="gave up after"):
        client.serving_endpoints.get("databricks-bge-large-en")
    assert time.monotonic() - started < 5


def endpoint_create(name: str, version: int) -> Change:
    desired = {
        "name": name,
        "served_entities": [
            {"name": "m", "entity": MODEL, "version": version, "workload_size": "Small"}
        ],
        "traffic": {"m": 100},
    }
    return Change(
        address=f"serving_endpoint.{name}",
        kind=KindName.SERVING_ENDPOINT,
        name=name,
        action=Action.CREATE,
        desired=desired,
    )


def apply_one(client: WorkspaceClient, change: Change) -> None:
    plan = Plan(target="sandbox", changes=(change,), summary=summarize((change,)))
    result = execute(plan, DatabricksWorkspace(client), settings=FAST)
    assert result.ok, result.summary_lines()


@pytest.mark.parametrize("status", ["lost", "drop", 500])
def test_a_create_whose_answer_is_lost_is_checked_not_sent_twice(
    sandbox_factory: Callable[..., SandboxServer],
    status: int | str,
) -> None:
    """``lost``: the endpoint was created, the answer never came: a read finds it with our
    marker, and no second POST is sent. ``drop``/500: nothing was created: the read finds
    nothing, and the create is sent again."""
    server = server_with(sandbox_factory, {"serving_endpoints.create": FailRule(status, times=1)})
    client = sandbox_client(server.url)
    version = register_version(client, MODEL).version
    assert version is not None
    calls: list[str] = []
    session = client.api_client._api_client._session
    session.hooks["response"].append(
        lambda r, *a, **k: calls.append(r.request.method + " " + r.request.path_url)
    )
    apply_one(client, endpoint_create("ep", version))
    live = client.serving_endpoints.get("ep")
    tags = {t.key: t.value for t in live.tags or []}
    assert tags.get("reconciler.project") == "demo"
    posts = [c for c in calls if c == "POST /api/2.0/serving-endpoints"]
    # The lost POST got no response (the hook never saw it); a dropped one is sent again.
    assert len(posts) == (0 if status == "lost" else 1 if status == "drop" else 2)
