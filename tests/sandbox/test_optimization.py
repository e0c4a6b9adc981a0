"""Provisioned throughput in the sandbox: the ``system.ai`` foundation models every workspace
has, their optimization info, and configs whose throughput bounds are off the chunk size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import BadRequest, NotFound

INFO = "/api/2.0/serving-endpoints/get-model-optimization-info"
LLAMA = "system.ai.meta_llama_v3_1_8b_instruct"


def test_system_ai_models_are_there_with_ready_versions(sdk: WorkspaceClient) -> None:
    models = {
        m.full_name for m in sdk.registered_models.list(catalog_name="system", schema_name="ai")
    }
    assert LLAMA in models
    assert [v.status.value for v in sdk.model_versions.list(LLAMA) if v.status] == ["READY"] * 3


def test_optimization_info(sdk: WorkspaceClient, register_ready: Callable[[str], int]) -> None:
    assert sdk.api_client.do("GET", f"{INFO}/{LLAMA}/3") == {
        "optimizable": True,
        "throughput_chunk_size": 1850,
    }
    version = register_ready("main.s.custom")
    assert sdk.api_client.do("GET", f"{INFO}/main.s.custom/{version}") == {"optimizable": False}
    with pytest.raises(NotFound):
        sdk.api_client.do("GET", f"{INFO}/{LLAMA}/9")


def _config(**entity: Any) -> dict[str, Any]:
    served = {"name": "llama", "entity_name": LLAMA, "entity_version": "3"}
    return {"served_entities": [{**served, "scale_to_zero_enabled": False, **entity}]}


def test_throughput_bounds_must_be_multiples_of_the_chunk_size(sdk: WorkspaceClient) -> None:
    body = {"name": "pt", "config": {"name": "pt", **_config(max_provisioned_throughput=1850)}}
    sdk.api_client.do("POST", "/api/2.0/serving-endpoints", body=body)
    sdk.serving_endpoints.wait_get_serving_endpoint_not_updating("pt")
    with pytest.raises(BadRequest, match="must be a multiple of the throughput chunk size 1850"):
        sdk.api_client.do(
            "PUT",
            "/api/2.0/serving-endpoints/pt/config",
            body=_config(max_provisioned_throughput=2000),
        )


def test_a_model_that_is_not_optimizable_takes_no_throughput(
    sdk: WorkspaceClient, register_ready: Callable[[str], int]
) -> None:
    version = register_ready("main.s.custom")
    entity = {"name": "c", "entity_name": "main.s.custom", "entity_version": str(version)}
    config = {"served_entities": [{**entity, "scale_to_zero_enabled": False}]}
    config["served_entities"][0]["max_provisioned_throughput"] = 100
    with pytest.raises(BadRequest, match="not eligible for provisioned throughput"):
        sdk.api_client.do(
            "POST", "/api/2.0/serving-endpoints", body={"name": "c", "config": config}
        )
