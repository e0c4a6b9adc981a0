"""The Databricks adapter against the sandbox: reads only what is asked, finds what a project
owns through its markers, counts calls, and backs off on 429."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import serving, vectorsearch

from reconciler.adapters.databricks.client import ClientSettings, sandbox_client
from reconciler.adapters.databricks.held_indexes import index_marker_key
from reconciler.adapters.databricks.model_tags import alias_inventory_key
from reconciler.adapters.databricks.serving_endpoint import QUOTA_TAG
from reconciler.adapters.databricks.workspace import DatabricksWorkspace
from reconciler.model.errors import WorkspaceError
from reconciler.model.live import OWNER_TAG, ExtraRead, ReadRequest
from reconciler.model.resources import KindName
from reconciler.sandbox import (
    FailRule,
    Faults,
    SandboxConfig,
    SandboxServer,
    register_versions_up_to,
)

MODEL = "main.s.clf"
RM, MA, SE, Q = (
    KindName.REGISTERED_MODEL,
    KindName.MODEL_ALIAS,
    KindName.SERVING_ENDPOINT,
    KindName.QUOTA,
)
VSE, IDX = KindName.VECTOR_SEARCH_ENDPOINT, KindName.VECTOR_INDEX


def _endpoint(w: WorkspaceClient, name: str, tags: dict[str, str]) -> None:
    w.serving_endpoints.create(
        name,
        config=serving.EndpointCoreConfigInput(
            name=name,
            served_entities=[
                serving.ServedEntityInput(
                    entity_name=MODEL,
                    entity_version="1",
                    workload_size="Small",
                    scale_to_zero_enabled=False,
                )
            ],
        ),
        tags=[serving.EndpointTag(key=k, value=v) for k, v in tags.items()],
    )


def _index(w: WorkspaceClient, name: str, endpoint: str) -> None:
    w.vector_search_indexes.create_index(
        name,
        endpoint,
        "id",
        vectorsearch.VectorIndexType.DIRECT_ACCESS,
        direct_access_index_spec=vectorsearch.DirectAccessVectorIndexSpec(
            schema_json='{"id": "integer", "v": "array<float>"}',
            embedding_vector_columns=[
                vectorsearch.EmbeddingVectorColumn(name="v", embedding_dimension=4)
            ],
        ),
    )


def _tag_model(w: WorkspaceClient, tags: dict[str, str]) -> None:
    w.api_client.do(
        "PATCH",
        f"/api/2.1/unity-catalog/securable-tags/FUNCTION/{MODEL}",
        body={"changes": {"add_tags": [{"key": k, "value": v} for k, v in tags.items()]}},
    )


def test_reads_only_what_is_asked_and_counts_calls(
    sdk: WorkspaceClient, sandbox: SandboxServer
) -> None:
    register_versions_up_to(sdk, MODEL, 2)
    sdk.registered_models.set_alias(MODEL, "champion", 2)
    _endpoint(sdk, "ep", {"team": "ml"})
    _endpoint(sdk, "other", {})
    ws = DatabricksWorkspace(sandbox_client(sandbox.url))
    live = ws.read(
        ReadRequest(
            assets=[(MA, f"{MODEL}@champion"), (SE, "ep"), (SE, "missing")],
            versions=[(MODEL, 2), (MODEL, 9)],
        )
    )
    assert sorted(live.assets) == [f"model_alias.{MODEL}@champion", "serving_endpoint.ep"]
    assert live.assets[f"model_alias.{MODEL}@champion"].doc == {
        "model": MODEL,
        "alias": "champion",
        "version": 2,
    }
    assert live.assets["serving_endpoint.ep"].doc["tags"] == {"team": "ml"}
    assert set(live.versions) == {(MODEL, 2)}
    assert live.versions[(MODEL, 2)].status == "READY"
    # one model get (aliases and tags) + 2 endpoint gets + one version list call
    assert live.api_calls == 4
    assert live.seconds > 0


def test_prune_finds_owned_assets_through_their_markers(
    sdk: WorkspaceClient, sandbox: SandboxServer
) -> None:
    register_versions_up_to(sdk, MODEL, 1)
    sdk.registered_models.set_alias(MODEL, "champion", 1)
    sdk.registered_models.set_alias(MODEL, "manual", 1)
    _tag_model(sdk, {OWNER_TAG: "proj", alias_inventory_key("proj"): "champion"})
    _endpoint(sdk, "ours", {OWNER_TAG: "proj"})
    _endpoint(sdk, "theirs", {OWNER_TAG: "other"})
    _endpoint(sdk, "quota-only", {QUOTA_TAG: "proj"})
    sdk.vector_search_endpoints.create_endpoint("vs", vectorsearch.EndpointType.STANDARD)
    sdk.vector_search_endpoints.update_endpoint_custom_tags(
        "vs",
        [
            vectorsearch.CustomTag(key=OWNER_TAG, value="proj"),
            vectorsearch.CustomTag(key=index_marker_key("main.s.idx"), value="proj"),
        ],
    )
    _index(sdk, "main.s.idx", "vs")
    _index(sdk, "main.s.unmarked", "vs")
    ws = DatabricksWorkspace(sandbox_client(sandbox.url))
    # The manifests still declare another model in the same schema (that is where prune looks).
    request = ReadRequest(assets=[(RM, "main.s.kept")], owned_by="proj", owned_kinds=list(KindName))
    live = ws.read(request)
    owners = {a: asset.owner for a, asset in live.assets.items()}
    assert owners == {
        f"registered_model.{MODEL}": "proj",
        f"model_alias.{MODEL}@champion": "proj",
        "serving_endpoint.ours": "proj",
        "quota.quota-only": "proj",
        "vector_search_endpoint.vs": "proj",
        "vector_index.main.s.idx": "proj",
    }


def test_a_few_429s_are_absorbed_and_slow_the_reads(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    faults = Faults(retry_after=0, fail_operations={"serving_endpoints.get": FailRule(429, 2)})
    server = sandbox_factory(
        config=SandboxConfig(delays=SandboxConfig.fast().delays, faults=faults)
    )
    ws = DatabricksWorkspace(sandbox_client(server.url))
    live = ws.read(ReadRequest(assets=[(SE, "databricks-bge-large-en")]))
    assert "serving_endpoint.databricks-bge-large-en" in live.assets
    # The SDK retried both 429s inside api_client.do; the limiter saw them anyway.
    assert (ws.limiter.throttled, live.throttled, ws.meter.refused) == (2, 2, 2)
    assert ws.limiter.cuts >= 1
    assert live.api_calls == 3


def test_a_workspace_that_keeps_refusing_is_a_clear_error(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    faults = Faults(
        retry_after=0, fail_operations={"vector_search_indexes.get_index": FailRule(429)}
    )
    server = sandbox_factory(
        config=SandboxConfig(delays=SandboxConfig.fast().delays, faults=faults)
    )
    client = sandbox_client(server.url, ClientSettings(retry_timeout_seconds=1))
    ws = DatabricksWorkspace(client)
    with pytest.raises(WorkspaceError, match=r"vector index main\.s\.idx.*gave up after"):
        ws.read(ReadRequest(assets=[(IDX, "main.s.idx")]))


def test_a_model_is_one_call_and_its_owner_one_more_only_when_asked(
    sdk: WorkspaceClient, sandbox: SandboxServer
) -> None:
    register_versions_up_to(sdk, MODEL, 2)
    sdk.registered_models.set_alias(MODEL, "champion", 2)
    sdk.registered_models.update(MODEL, comment="routes tickets", owner="ml-team")
    _tag_model(sdk, {"team": "ml", OWNER_TAG: "proj"})
    ws = DatabricksWorkspace(sandbox_client(sandbox.url))
    plain = ws.read(ReadRequest(assets=[(RM, MODEL), (MA, f"{MODEL}@champion")]))
    model = plain.assets[f"registered_model.{MODEL}"]
    assert model.doc == {"name": MODEL, "comment": "routes tickets", "tags": {"team": "ml"}}
    assert model.owner == "proj"
    assert plain.assets[f"model_alias.{MODEL}@champion"].doc["version"] == 2
    assert plain.api_calls == 1
    owned = ws.read(
        ReadRequest(assets=[(RM, MODEL)], extra={ExtraRead.OWNER: (MODEL, "main.s.missing")})
    )
    assert owned.assets[f"registered_model.{MODEL}"].doc["owner"] == "ml-team"
    assert owned.api_calls == 2  # no owner call for a model that was not found


def test_without_the_mlflow_route_models_are_read_from_the_2_1_api(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    faults = Faults(fail_operations={"mlflow.get_registered_model": FailRule(501)})
    server = sandbox_factory(
        config=SandboxConfig(delays=SandboxConfig.fast().delays, faults=faults)
    )
    sdk = sandbox_client(server.url)
    register_versions_up_to(sdk, MODEL, 1)
    sdk.registered_models.set_alias(MODEL, "champion", 1)
    sdk.registered_models.update(MODEL, comment="routes tickets")
    _tag_model(sdk, {"team": "ml"})
    ws = DatabricksWorkspace(sandbox_client(server.url))
    live = ws.read(ReadRequest(assets=[(RM, MODEL), (MA, f"{MODEL}@champion")]))
    raw = live.assets[f"registered_model.{MODEL}"].raw
    assert live.assets[f"registered_model.{MODEL}"].doc == {
        "name": MODEL,
        "comment": "routes tickets",
        "owner": raw["owner"],
        "storage_location": raw["storage_location"],  # the 2.1 answer carries it
        "tags": {"team": "ml"},
    }
    assert live.assets[f"model_alias.{MODEL}@champion"].doc["version"] == 1
    assert live.api_calls == 2
    assert "main.s.gone" not in str(ws.read(ReadRequest(assets=[(RM, "main.s.gone")])).assets)
