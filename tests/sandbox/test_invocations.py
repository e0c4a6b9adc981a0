"""Queries: task-shaped answers, traffic routing, and AI Gateway rate limits enforced."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidState, TooManyRequests
from databricks.sdk.service.serving import (
    AiGatewayRateLimit,
    AiGatewayRateLimitKey,
    AiGatewayRateLimitRenewalPeriod,
    ChatMessage,
    ChatMessageRole,
    EndpointCoreConfigInput,
    EndpointStateReady,
    ServedEntityInput,
)

from reconciler.sandbox import SandboxConfig, SandboxServer, register_version, workspace_client
from reconciler.sandbox.config import Delays

LLAMA = "databricks-meta-llama-3-3-70b-instruct"


def minute_is_young() -> None:
    """Rate-limit windows are calendar minutes: do not start a test at a minute's edge."""
    if time.time() % 60 > 55:
        time.sleep(60 - time.time() % 60 + 0.1)


def test_foundation_models_answer_in_their_task_shape(sdk: WorkspaceClient) -> None:
    chat = sdk.serving_endpoints.query(
        LLAMA, messages=[ChatMessage(role=ChatMessageRole.USER, content="hi")]
    )
    assert chat.choices and chat.choices[0].message is not None
    assert chat.served_model_name == LLAMA and chat.usage is not None
    emb = sdk.serving_endpoints.query("databricks-bge-large-en", input=["a", "b"])
    assert emb.data is not None and len(emb.data) == 2
    assert len(emb.data[0].embedding or []) == 1024


def test_rate_limits_are_enforced_per_minute(sandbox: SandboxServer, sdk: WorkspaceClient) -> None:
    minute_is_young()
    sdk.serving_endpoints.put_ai_gateway(
        LLAMA,
        rate_limits=[
            AiGatewayRateLimit(renewal_period=AiGatewayRateLimitRenewalPeriod.MINUTE, calls=2),
            AiGatewayRateLimit(
                renewal_period=AiGatewayRateLimitRenewalPeriod.MINUTE,
                calls=1,
                key=AiGatewayRateLimitKey.USER_GROUP,
                principal="someone-else",
            ),
        ],
    )
    message = [ChatMessage(role=ChatMessageRole.USER, content="hi")]
    sdk.serving_endpoints.query(LLAMA, messages=message)
    sdk.serving_endpoints.query(LLAMA, messages=message)  # the group limit is not ours
    impatient = workspace_client(sandbox.url, retry_timeout_seconds=1)
    with pytest.raises(TimeoutError) as info:
        impatient.serving_endpoints.query(LLAMA, messages=message)
    assert isinstance(info.value.__cause__, TooManyRequests)
    assert "rate limit" in str(info.value.__cause__)
    # another endpoint has its own budget
    sdk.serving_endpoints.query("databricks-gte-large-en", input="x")


def test_custom_models_predict_and_follow_the_traffic_split(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    # Long enough that the first query surely comes before the endpoint is ready.
    sdk = workspace_client(
        sandbox_factory(SandboxConfig(delays=Delays(1.0, 0.01, 0.02, 0.02, 0.05))).url
    )
    register_version(sdk, "main.s.m")
    entity = ServedEntityInput(
        name="only",
        entity_name="main.s.m",
        entity_version="1",
        workload_size="Small",
        scale_to_zero_enabled=True,
    )
    sdk.serving_endpoints.create(
        "ep", config=EndpointCoreConfigInput(name="ep", served_entities=[entity])
    )
    with pytest.raises(InvalidState):
        sdk.serving_endpoints.query("ep", dataframe_records=[{"x": 1}])
    deadline = time.time() + 5
    while (sdk.serving_endpoints.get("ep").state or None).ready is not EndpointStateReady.READY:  # type: ignore[union-attr]
        assert time.time() < deadline
        time.sleep(0.01)
    got = sdk.serving_endpoints.query("ep", dataframe_records=[{"x": 1}, {"x": 2}])
    assert got.predictions == [0.0, 0.0] and got.served_model_name == "only"
