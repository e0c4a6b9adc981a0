"""Injected latency and failures, and how the real SDK reacts to them."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from databricks.sdk.errors import InternalError, TooManyRequests

from reconciler.sandbox import FailRule, Faults, SandboxConfig, SandboxServer, workspace_client
from reconciler.sandbox.api import ApiError
from reconciler.sandbox.config import parse_fail_operations
from reconciler.sandbox.faults import FaultInjector


def config_with(faults: Faults) -> SandboxConfig:
    config = SandboxConfig.fast()
    config.faults = faults
    return config


def test_sdk_retries_429_honouring_retry_after(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    rule = FailRule(status=429, times=2)
    faults = Faults(retry_after=1, fail_operations={"serving_endpoints.get": rule})
    sdk = workspace_client(sandbox_factory(config_with(faults)).url)
    started = time.monotonic()
    ep = sdk.serving_endpoints.get("databricks-bge-large-en")
    elapsed = time.monotonic() - started
    assert ep.name == "databricks-bge-large-en"
    assert elapsed >= 2.0  # two 429s, each slept Retry-After (1 s) plus jitter
    assert rule.times == 0


def test_persistent_429_surfaces_as_timeout_caused_by_too_many_requests(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    faults = Faults(fault_rate=1.0, fault_status=429, retry_after=1)
    server = sandbox_factory(config_with(faults))
    sdk = workspace_client(server.url, retry_timeout_seconds=1)
    with pytest.raises(TimeoutError) as info:
        sdk.serving_endpoints.list()
    assert isinstance(info.value.__cause__, TooManyRequests)
    assert info.value.__cause__.retry_after_secs == 1


def test_named_operation_fails_and_nothing_changes(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    faults = Faults(fail_operations={"registered_models.create": FailRule(500)})
    sdk = workspace_client(sandbox_factory(config_with(faults)).url)
    with pytest.raises(InternalError, match=r"registered_models\.create"):
        sdk.registered_models.create(catalog_name="main", schema_name="s", name="m")
    assert [m for m in sdk.registered_models.list() if m.catalog_name != "system"] == []


def test_control_route_changes_faults_at_runtime(sandbox: SandboxServer) -> None:
    sdk = workspace_client(sandbox.url)
    doc = sdk.api_client.do(
        "POST",
        "/sandbox/faults",
        body={"latency_ms": 50, "fail_operations": "serving_endpoints.get=503x1"},
    )
    assert isinstance(doc, dict) and doc["latency_ms"] == 50
    assert doc["fail_operations"] == {"serving_endpoints.get": {"status": 503, "times": 1}}
    started = time.monotonic()
    sdk.serving_endpoints.get("databricks-bge-large-en")
    assert time.monotonic() - started >= 0.05
    with pytest.raises(Exception, match="unknown fault settings"):
        sdk.api_client.do("POST", "/sandbox/faults", body={"nope": 1})


def test_slow_readiness_delays_every_state_machine(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    sdk = workspace_client(sandbox_factory(config_with(Faults(slow_readiness=60))).url)
    from databricks.sdk.service.vectorsearch import EndpointStatusState, EndpointType

    sdk.vector_search_endpoints.create_endpoint("vs", EndpointType.STANDARD)
    time.sleep(0.05)
    status = sdk.vector_search_endpoints.get_endpoint("vs").endpoint_status
    assert status is not None and status.state is EndpointStatusState.PROVISIONING


def test_random_faults_can_target_operations() -> None:
    injector = FaultInjector(
        Faults(fault_rate=1.0, fault_status=500, fault_operations=["*.create*", "x.y"])
    )
    injector.before("serving_endpoints.get")
    for operation in ("serving_endpoints.create", "vector_search_indexes.create_index", "x.y"):
        with pytest.raises(ApiError):
            injector.before(operation)


def test_faults_are_deterministic_for_a_seed() -> None:
    def outcomes(seed: int) -> list[int]:
        injector = FaultInjector(Faults(fault_rate=0.3, fault_status=500, seed=seed))
        out = []
        for _ in range(50):
            try:
                injector.before("op")
                out.append(200)
            except ApiError as error:
                out.append(error.status)
        return out

    assert outcomes(7) == outcomes(7)
    assert outcomes(7) != outcomes(8)
    assert 5 < outcomes(7).count(500) < 30


def test_env_variables_configure_faults_and_delays() -> None:
    config = SandboxConfig().with_env(
        {
            "RECONCILER_SANDBOX_LATENCY_MS": "12",
            "RECONCILER_SANDBOX_FAULT_RATE": "0.25",
            "RECONCILER_SANDBOX_FAULT_STATUS": "500",
            "RECONCILER_SANDBOX_FAULT_OPERATIONS": "a.*, b.c",
            "RECONCILER_SANDBOX_SEED": "3",
            "RECONCILER_SANDBOX_FAIL_OPERATIONS": "a.b,c.d=429x2",
            "RECONCILER_SANDBOX_DELAY_CONFIG_UPDATE": "1.5",
        }
    )
    assert config.faults.latency_ms == 12 and config.faults.fault_rate == 0.25
    assert config.faults.fault_status == 500 and config.faults.seed == 3
    assert config.faults.fault_operations == ["a.*", "b.c"]
    assert config.faults.fail_operations == {
        "a.b": FailRule(500, None),
        "c.d": FailRule(429, 2),
    }
    assert config.delays.config_update == 1.5
    assert parse_fail_operations({"x": 404}) == {"x": FailRule(404)}
