"""Ownership that cannot be written in the create call: intent records (Vector Search endpoints),
and what the reads make of them. Also the marker in the create call of a registered model, and
the indexes an endpoint holds."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from apply.sdk_workspace import FAST, client_for, run
from databricks.sdk import WorkspaceClient

from reconciler.adapters.databricks.held_indexes import index_marker_key
from reconciler.adapters.databricks.intents import (
    CLOCK_SKEW_MS,
    CREATE_WINDOW_MS,
    Intent,
    clear_intent,
    intent_owner,
    intent_path,
    list_intents,
    parse_intent,
    record_intent,
)
from reconciler.adapters.databricks.workspace import DatabricksWorkspace, apply_change
from reconciler.model.changes import Action, Change
from reconciler.model.errors import ApplyError
from reconciler.model.live import OWNER_TAG, Held, LiveAsset, ReadRequest
from reconciler.model.resources import KindName
from reconciler.sandbox import SandboxServer

VSE, IDX = KindName.VECTOR_SEARCH_ENDPOINT, KindName.VECTOR_INDEX
ADDRESS = "vector_search_endpoint.vs"
ENDPOINTS = "/api/2.0/vector-search/endpoints"


def test_an_intent_names_its_asset_and_project() -> None:
    path = intent_path("model_alias.c.s.m@champion", "my.proj-1")
    found = parse_intent(path, 5)
    assert found == Intent("model_alias.c.s.m@champion", "my.proj-1", 5)
    assert parse_intent("/Shared/.reconciler/intents/notes.txt", 5) is None
    assert parse_intent("/Shared/.reconciler/intents/no-project.json", 5) is None


def test_an_intent_covers_only_what_was_created_just_after_it() -> None:
    intents = [Intent(ADDRESS, "a", 1_000_000_000), Intent("vector_search_endpoint.x", "b", 0)]
    written = 1_000_000_000
    assert intent_owner(intents, ADDRESS, written + 1000) == "a"
    assert intent_owner(intents, ADDRESS, written - CLOCK_SKEW_MS + 1) == "a"
    assert intent_owner(intents, ADDRESS, written + CREATE_WINDOW_MS + 1) is None, "made later"
    assert intent_owner(intents, ADDRESS, written - CLOCK_SKEW_MS - 1) is None, "made before"
    assert intent_owner(intents, ADDRESS, None) is None
    later = [*intents, Intent(ADDRESS, "c", written + 10)]
    assert intent_owner(later, ADDRESS, written + 20) == "c", "the latest intent wins"


def read_endpoint(
    client: WorkspaceClient, *, prune: bool = False, holds: bool = False
) -> LiveAsset | None:
    request = ReadRequest(
        assets=[] if prune or holds else [(VSE, "vs")],
        owned_by="proj" if prune else None,
        owned_kinds=[VSE, IDX] if prune else [],
        holds_of=[(VSE, "vs")] if holds else [],
    )
    return DatabricksWorkspace(client).read(request).assets.get(ADDRESS)


def create_bare(client: WorkspaceClient) -> None:
    client.api_client.do("POST", ENDPOINTS, body={"name": "vs", "endpoint_type": "STANDARD"})


def test_an_endpoint_created_after_its_intent_is_owned_but_unmarked(sdk: WorkspaceClient) -> None:
    """The apply died between the create and the tags: plan and prune still know it."""
    record_intent(sdk, ADDRESS, "proj")
    create_bare(sdk)
    asset = read_endpoint(sdk)
    assert asset is not None and asset.owner == "proj" and not asset.marked
    pruned = read_endpoint(sdk, prune=True)
    assert pruned is not None and pruned.owner == "proj", "prune finds it"
    clear_intent(sdk, ADDRESS, "proj")
    assert list_intents(sdk) == []
    unowned = read_endpoint(sdk)
    assert unowned is not None and unowned.owner is None and unowned.marked
    assert read_endpoint(sdk, prune=True) is None


def test_intents_are_listed_only_when_an_endpoint_lacks_its_marker(
    sdk: WorkspaceClient, sandbox: SandboxServer
) -> None:
    lists: list[str] = []
    original = sandbox.dispatch

    def spy(route: Any, params: Any, method: str, path: str, query: str, body: Any) -> Any:
        if path == "/api/2.0/workspace/list":
            lists.append(query)
        return original(route, params, method, path, query, body)

    sandbox.dispatch = spy  # type: ignore[method-assign]
    create_bare(sdk)
    body = {"custom_tags": [{"key": OWNER_TAG, "value": "proj"}]}
    sdk.api_client.do("PATCH", f"{ENDPOINTS}/vs/tags", body=body)
    asset = read_endpoint(sdk)
    assert asset is not None and asset.owner == "proj" and asset.marked
    assert lists == [], "a marked endpoint costs no extra call"
    sdk.api_client.do("PATCH", f"{ENDPOINTS}/vs/tags", body={"custom_tags": []})
    assert read_endpoint(sdk) is not None
    assert len(lists) == 1


def test_create_writes_the_intent_first_and_clears_it_once_marked(sandbox: SandboxServer) -> None:
    client = client_for(sandbox.url)
    seen: list[str] = []
    original = sandbox.dispatch

    def spy(route: Any, params: Any, method: str, path: str, query: str, body: Any) -> Any:
        if method != "GET":
            seen.append(f"{method} {path} {sorted(body)}")
        return original(route, params, method, path, query, body)

    sandbox.dispatch = spy  # type: ignore[method-assign]
    change = Change(
        address=ADDRESS, kind=VSE, name="vs", action=Action.CREATE, desired={"name": "vs"}
    )
    assert run(client, change, project="proj").ok
    writes = [s.split(" ")[1] for s in seen]
    intent = writes.index("/api/2.0/workspace/import")
    assert intent < writes.index(ENDPOINTS) < writes.index(f"{ENDPOINTS}/vs/tags")
    assert writes[-1] == "/api/2.0/workspace/delete"
    assert list_intents(client) == []
    tags = client.api_client.do("GET", f"{ENDPOINTS}/vs")["custom_tags"]
    assert {"key": OWNER_TAG, "value": "proj"} in tags


def test_a_model_is_created_with_its_marker_in_the_one_call(sandbox: SandboxServer) -> None:
    client = client_for(sandbox.url)
    creates: list[dict[str, Any]] = []
    original = sandbox.dispatch

    def spy(route: Any, params: Any, method: str, path: str, query: str, body: Any) -> Any:
        if path.endswith("/registered-models/create"):
            creates.append(body)
        return original(route, params, method, path, query, body)

    sandbox.dispatch = spy  # type: ignore[method-assign]
    name = "main.support.fresh"
    change = Change(
        address=f"registered_model.{name}",
        kind=KindName.REGISTERED_MODEL,
        name=name,
        action=Action.CREATE,
        desired={"name": name, "comment": "c", "tags": {"team": "t"}},
    )
    assert run(client, change, project="proj").ok
    (body,) = creates
    assert {"key": OWNER_TAG, "value": "proj"} in body["tags"]
    assert body["description"] == "c"
    assert client.registered_models.get(name).comment == "c"


def test_an_endpoint_holds_its_live_indexes_with_their_owners(sdk: WorkspaceClient) -> None:
    create_bare(sdk)
    for name in ("main.s.mine", "main.s.theirs", "main.s.loose"):
        body = {
            "name": name,
            "endpoint_name": "vs",
            "primary_key": "id",
            "index_type": "DIRECT_ACCESS",
            "direct_access_index_spec": {"schema_json": '{"id": "long"}'},
        }
        sdk.api_client.do("POST", "/api/2.0/vector-search/indexes", body=body)
    markers = {index_marker_key("main.s.mine"): "proj", index_marker_key("main.s.theirs"): "b"}
    tags = [{"key": k, "value": v} for k, v in {OWNER_TAG: "proj", **markers}.items()]
    sdk.api_client.do("PATCH", f"{ENDPOINTS}/vs/tags", body={"custom_tags": tags})
    plain = read_endpoint(sdk)
    assert plain is not None and plain.holds == (), "listed only for a plan that may destroy it"
    asset = read_endpoint(sdk, holds=True)
    assert asset is not None
    assert set(asset.holds) == {
        Held("vector_index.main.s.mine", "proj"),
        Held("vector_index.main.s.theirs", "b"),
        Held("vector_index.main.s.loose", None),
    }


def test_apply_refuses_to_delete_an_endpoint_holding_an_index_the_plan_did_not_see(
    sandbox: SandboxServer,
) -> None:
    """Another project added an index between the plan and the apply."""
    client = client_for(sandbox.url)
    create_bare(client)
    body = {
        "name": "main.s.late",
        "endpoint_name": "vs",
        "primary_key": "id",
        "index_type": "DIRECT_ACCESS",
        "direct_access_index_spec": {"schema_json": '{"id": "long"}'},
    }
    client.api_client.do("POST", "/api/2.0/vector-search/indexes", body=body)
    live = LiveAsset(VSE, "vs", {"name": "vs"}, {"name": "vs"}, owner="proj")
    change = Change(address=ADDRESS, kind=VSE, name="vs", action=Action.DELETE)
    settings = replace(FAST, project="proj")
    with pytest.raises(ApplyError, match=r"main\.s\.late \(owned by no project\)"):
        apply_change(client, change, live, settings)
    assert client.vector_search_endpoints.get_endpoint("vs").name == "vs"
