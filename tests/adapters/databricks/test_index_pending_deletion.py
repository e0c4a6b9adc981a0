"""An index replace waits out the name's "pending deletion" window (recorded on real
workspaces: the create answers 400 INVALID_PARAMETER_VALUE meanwhile) and converges in one apply."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from apply.sdk_workspace import client_for, run

from reconciler.model.changes import Action, Change
from reconciler.sandbox import SandboxConfig, SandboxServer
from reconciler.sandbox import server as server_module
from reconciler.sandbox.api import ApiError, Request
from reconciler.sandbox.config import Delays

INDEX = "main.support.docs_index"
INDEX_DOC = {
    "name": INDEX,
    "endpoint": "docs-vs",
    "primary_key": "id",
    "direct_access": {"schema": {"id": "long", "text": "string"}},
}


@pytest.fixture
def create_outcomes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """What each index create the sandbox received answered ("ok" or the error code)."""
    outcomes: list[str] = []

    def counted(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        def wrapper(req: Request) -> Any:
            try:
                result = handler(req)
            except ApiError as error:
                outcomes.append(f"{error.status} {error.error_code} {error.message}")
                raise
            outcomes.append("ok")
            return result

        return wrapper

    routes = [
        dataclasses.replace(r, handler=counted(r.handler))
        if r.operation == "vector_search_indexes.create_index"
        else r
        for r in server_module.ROUTER.routes
    ]
    monkeypatch.setattr(server_module.ROUTER, "routes", routes)
    yield outcomes


def change(action: Action, **doc: Any) -> Change:
    return Change(
        address=f"vector_index.{INDEX}",
        kind="vector_index",
        name=INDEX,
        action=action,
        desired={**INDEX_DOC, **doc},
    )


def with_index(factory: Callable[..., SandboxServer], window: float) -> SandboxServer:
    server = factory(SandboxConfig(delays=Delays(0.02, 0.01, 0.02, 0.02, window)))
    client = client_for(server.url)
    endpoint = Change(
        address="vector_search_endpoint.docs-vs",
        kind="vector_search_endpoint",
        name="docs-vs",
        action=Action.CREATE,
        desired={"name": "docs-vs", "type": "STANDARD"},
    )
    assert run(client, endpoint).ok
    assert run(client, change(Action.CREATE)).ok
    return server


def test_index_replace_retries_the_create_while_the_name_is_pending_deletion(
    sandbox_factory: Callable[..., SandboxServer], create_outcomes: list[str]
) -> None:
    server = with_index(sandbox_factory, window=1.0)
    client = client_for(server.url)
    create_outcomes.clear()
    result = run(client, change(Action.REPLACE, primary_key="doc_id"))
    assert result.ok, result.summary_lines()
    refused = [o for o in create_outcomes if o != "ok"]
    assert refused and all(
        o.startswith("400 INVALID_PARAMETER_VALUE") and "currently pending deletion" in o
        for o in refused
    )
    assert create_outcomes[-1] == "ok"
    live = client.vector_search_indexes.get_index(INDEX)
    assert live.primary_key == "doc_id" and live.status is not None and live.status.ready


def test_index_replace_gives_up_after_the_change_timeout(
    sandbox_factory: Callable[..., SandboxServer], create_outcomes: list[str]
) -> None:
    server = with_index(sandbox_factory, window=120)
    client = client_for(server.url)
    # Far below the 120 s window, yet long enough that a loaded machine still reaches the
    # create before the deadline (the delete and its wait come first).
    result = run(client, change(Action.REPLACE, primary_key="doc_id"), change_timeout=6)
    (failed,) = result.failed
    assert "still pending deletion" in (failed.message or "")
    assert create_outcomes.count("ok") == 1  # only the first create, before the replace
