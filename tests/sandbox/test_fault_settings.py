"""The faults control route and the environment reject bad settings, naming them; nothing
changes when they do."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.sandbox import SandboxConfig, SandboxServer

from .raw_http import assert_databricks_error, one_answer, request

OP = "serving_endpoints.update_config"
BAD = [
    ({"fault_rate": -0.1}, "fault_rate"),
    ({"fault_rate": 1.5}, "fault_rate"),
    ({"fault_rate": "0.5"}, "fault_rate"),
    ({"fault_rate": True}, "fault_rate"),
    ({"latency_ms": -1}, "latency_ms"),
    ({"latency_ms": 1e12}, "latency_ms"),
    ({"latency_ms": None}, "latency_ms"),
    ({"fault_status": 200}, "fault_status"),
    ({"fault_status": "429"}, "fault_status"),
    ({"retry_after": 1.5}, "retry_after"),
    ({"retry_after": -1}, "retry_after"),
    ({"fault_operations": "serving_endpoints.*"}, "fault_operations"),
    ({"fault_operations": [1]}, "fault_operations"),
    ({"fail_operations": {OP: 200}}, "fail_operations"),
    ({"fail_operations": {OP: {"status": 500, "times": -1}}}, "fail_operations"),
    ({"fail_operations": {OP: {"status": 500, "when": "now"}}}, "fail_operations"),
    ({"fail_operations": 5}, "fail_operations"),
    ({"fail_operations": f"{OP}=abc"}, "fail_operations"),
    ({"fail_operations": {"bogus.op": 500}}, "no operation 'bogus.op'"),
    (
        {"fail_operations": {"serving_endpoints.updat_config": 500}},
        "did you mean 'serving_endpoints.update_config'?",
    ),
    ({"slow_readiness": -2}, "slow_readiness"),
    ({"slow_deletion": "long"}, "slow_deletion"),
    ({"rate_limit": 0}, "rate_limit"),
    ({"rate_limit": -3}, "rate_limit"),
    ({"rate_limit": [10]}, "rate_limit"),
    ({"seed": "x"}, "seed"),
    ({"nope": 1}, "nope"),
    ({"latency_ms": 5, "fault_rate": 7}, "fault_rate"),  # one bad value: nothing applied
]


def faults_now(server: SandboxServer) -> dict[str, Any]:
    answer = one_answer(server, request("GET", "/sandbox/faults", auth=False))
    assert answer.status == 200 and isinstance(answer.doc, dict)
    return answer.doc


@pytest.mark.parametrize(("body", "named"), BAD)
def test_faults_route_rejects_bad_values(
    sandbox: SandboxServer, body: dict[str, Any], named: str
) -> None:
    before = faults_now(sandbox)
    answer = one_answer(sandbox, request("POST", "/sandbox/faults", json.dumps(body).encode()))
    assert_databricks_error(answer, 400, "INVALID_PARAMETER_VALUE")
    assert named in answer.doc["message"]
    assert faults_now(sandbox) == before


@pytest.mark.parametrize("body", [b"[1]", b"nope", b'"latency_ms"'])
def test_faults_route_rejects_a_body_that_is_not_an_object(
    sandbox: SandboxServer, body: bytes
) -> None:
    answer = one_answer(sandbox, request("POST", "/sandbox/faults", body))
    assert_databricks_error(answer, 400, "MALFORMED_REQUEST")


def test_faults_route_accepts_good_values(sandbox: SandboxServer) -> None:
    body = {
        "latency_ms": 0,
        "fault_rate": 0,
        "fault_status": 503,
        "retry_after": 2,
        "fault_operations": ["serving_endpoints.*"],
        "fail_operations": {
            "serving_endpoints.create": 500,
            OP: {"status": 429, "times": 2},
            "serving_endpoints.delete": "503x3",
        },
        "slow_deletion": 1.5,
        "rate_limit": 25,
        "seed": 7,
    }
    answer = one_answer(sandbox, request("POST", "/sandbox/faults", json.dumps(body).encode()))
    assert answer.status == 200
    assert answer.doc["fail_operations"] == {
        "serving_endpoints.create": {"status": 500, "times": None},
        OP: {"status": 429, "times": 2},
        "serving_endpoints.delete": {"status": 503, "times": 3},
    }
    assert (answer.doc["rate_limit"], answer.doc["slow_deletion"]) == (25, 1.5)
    off = one_answer(sandbox, request("POST", "/sandbox/faults", b'{"rate_limit": null}'))
    assert off.doc["rate_limit"] is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FAULT_RATE", "2"),
        ("LATENCY_MS", "fast"),
        ("RATE_LIMIT", "-1"),
        ("RETRY_AFTER", "0.5"),
        ("FAIL_OPERATIONS", "a.b=200"),
        ("DELAY_INDEX_DELETION", "-1"),
    ],
)
def test_bad_environment_values_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"RECONCILER_SANDBOX_{variable}="):
        SandboxConfig().with_env({f"RECONCILER_SANDBOX_{variable}": value})
