"""Valid write requests with one part replaced by any JSON value (or dropped): the sandbox
answers each in the Databricks shape and never crashes (no 500), whatever the shape."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.sandbox import SandboxConfig, SandboxServer, register_version, workspace_client

from .raw_http import assert_databricks_error, one_answer, request

ENTITY = {
    "entity_name": "main.s.m",
    "entity_version": "1",
    "workload_size": "Small",
    "scale_to_zero_enabled": True,
    "environment_vars": {"K": "{{secrets/s/k}}"},
}
CONFIG = {
    "served_entities": [ENTITY],
    "traffic_config": {"routes": [{"served_entity_name": "m-1", "traffic_percentage": 100}]},
    "auto_capture_config": {"catalog_name": "c", "schema_name": "s", "table_name_prefix": "p"},
}
GATEWAY = {
    "usage_tracking_config": {"enabled": True},
    "rate_limits": [{"calls": 5, "key": "user", "renewal_period": "minute"}],
    "guardrails": {"input": {"safety": True, "pii": {"behavior": "BLOCK"}}},
    "fallback_config": {"enabled": False},
}
TELEMETRY = {
    "enabled_telemetry_features": ["TELEMETRY_FEATURE_LOGS"],
    "inference_table_config": {"sampling_fraction": 0.5},
    "table_names": {"logs_table": "c.s.t"},
}
SERVING = "/api/2.0/serving-endpoints"
BASE = f"{SERVING}/base"
REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "POST",
        SERVING,
        {
            "name": "fz",
            "config": {"name": "fz", **copy.deepcopy(CONFIG)},
            "ai_gateway": GATEWAY,
            "tags": [{"key": "a", "value": "b"}],
            "telemetry_config": TELEMETRY,
            "email_notifications": {"on_update_failure": ["a@b.c"]},
            "budget_policy_id": "bp",
            "route_optimized": True,
        },
    ),
    ("PUT", f"{BASE}/config", CONFIG),
    ("PUT", f"{BASE}/ai-gateway", GATEWAY),
    ("PATCH", f"{BASE}/tags", {"add_tags": [{"key": "a", "value": "b"}], "delete_tags": ["x"]}),
    ("PATCH", f"{BASE}/telemetry-config", {"telemetry_config": TELEMETRY}),
    ("PATCH", f"{BASE}/notifications", {"email_notifications": {"on_update_success": ["a"]}}),
    (
        "POST",
        "/api/2.0/vector-search/endpoints",
        {"name": "fzvs", "endpoint_type": "STANDARD", "budget_policy_id": "bp", "target_qps": 3},
    ),
    ("PATCH", "/api/2.0/vector-search/endpoints/basevs", {"target_qps": 4}),
    (
        "PATCH",
        "/api/2.0/vector-search/endpoints/basevs/tags",
        {"custom_tags": [{"key": "a", "value": "b"}]},
    ),
    (
        "POST",
        "/api/2.0/vector-search/indexes",
        {
            "name": "main.s.fz",
            "endpoint_name": "basevs",
            "primary_key": "id",
            "index_type": "DIRECT_ACCESS",
            "direct_access_index_spec": {
                "schema_json": json.dumps({"id": "long", "v": "array<float>"}),
                "embedding_vector_columns": [{"name": "v", "embedding_dimension": 4}],
            },
        },
    ),
    (
        "POST",
        "/api/2.0/vector-search/indexes",
        {
            "name": "main.s.fz2",
            "endpoint_name": "basevs",
            "primary_key": "id",
            "index_type": "DELTA_SYNC",
            "delta_sync_index_spec": {
                "source_table": "main.s.docs",
                "pipeline_type": "TRIGGERED",
                "embedding_source_columns": [
                    {"name": "t", "embedding_model_endpoint_name": "databricks-bge-large-en"}
                ],
                "columns_to_sync": ["id", "t"],
            },
        },
    ),
    (
        "POST",
        "/api/2.1/unity-catalog/models",
        {"catalog_name": "main", "schema_name": "s", "name": "fz", "comment": "c"},
    ),
    ("PATCH", "/api/2.1/unity-catalog/models/main.s.m", {"comment": "c", "owner": "o"}),
    ("PUT", "/api/2.1/unity-catalog/models/main.s.m/aliases/champion", {"version_num": 1}),
    (
        "PATCH",
        "/api/2.1/unity-catalog/securable-tags/FUNCTION/main.s.m",
        {"changes": {"add_tags": [{"key": "a", "value": "b"}], "remove": ["x"]}},
    ),
    (
        "POST",
        "/api/2.0/mlflow/unity-catalog/model-versions/set-tag",
        {"name": "main.s.m", "version": "1", "key": "k", "value": "v"},
    ),
    (
        "POST",
        "/api/2.0/workspace/import",
        {"path": "/fz/file", "content": "aGk=", "format": "AUTO", "overwrite": True},
    ),
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON document (object keys and list items)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield (*prefix, i)
            yield from paths(item, (*prefix, i))


def mutated(body: dict[str, Any], where: tuple[Any, ...], new: Any, drop: bool) -> Any:
    doc = copy.deepcopy(body)
    parent = doc
    for step in where[:-1]:
        parent = parent[step]
    if drop:
        del parent[where[-1]]
    else:
        parent[where[-1]] = new
    return doc


@st.composite
def bad_requests(draw: st.DrawFn) -> tuple[str, str, Any]:
    method, path, body = draw(st.sampled_from(REQUESTS))
    # A fresh name each time, so creates get past "already exists" to the rest of the body.
    body = json.loads(json.dumps(body).replace("fz", f"fz{draw(st.integers(0, 10**9))}"))
    where = draw(st.sampled_from(list(paths(body))))
    return method, path, mutated(body, where, draw(json_values), draw(st.booleans()))


@pytest.fixture(scope="module")
def shaped_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """A workspace with the objects the requests name: endpoint ``base``, ``basevs``, a model."""
    with SandboxServer(tmp_path_factory.mktemp("shapes"), config=SandboxConfig.fast()) as server:
        sdk = workspace_client(server.url)
        register_version(sdk, "main.s.m")
        sdk.api_client.do("POST", SERVING, body={"name": "base"})
        sdk.api_client.do(
            "POST",
            "/api/2.0/vector-search/endpoints",
            body={"name": "basevs", "endpoint_type": "STANDARD"},
        )
        yield server


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bad=bad_requests())
def test_any_shape_of_a_write_is_answered_in_the_databricks_shape(
    shaped_server: SandboxServer, bad: tuple[str, str, Any]
) -> None:
    method, path, body = bad
    answer = one_answer(shaped_server, request(method, path, json.dumps(body).encode()))
    assert answer.status != 500, answer.body
    if answer.status >= 400:
        assert_databricks_error(answer, answer.status)
    else:
        assert isinstance(answer.doc, dict)
