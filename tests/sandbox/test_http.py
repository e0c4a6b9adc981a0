"""The HTTP surface outside any one API: discovery probe, auth, unknown routes, bad bodies."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from reconciler.sandbox import SandboxServer


def call(
    server: SandboxServer,
    method: str,
    path: str,
    body: bytes | None = None,
    token: str | None = "x",
) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(server.url + path, data=body, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_host_metadata_probe_is_a_fast_404_without_auth(sandbox: SandboxServer) -> None:
    started = time.monotonic()
    status, body = call(sandbox, "GET", "/.well-known/databricks-config", token=None)
    assert status == 404 and "error_code" in body
    assert time.monotonic() - started < 5  # answered, not retried or hung


@pytest.mark.parametrize(
    ("method", "path", "body", "token", "status", "code"),
    [
        ("GET", "/api/2.0/serving-endpoints", None, None, 401, "UNAUTHENTICATED"),
        ("GET", "/api/2.0/nothing-here", None, "x", 404, "ENDPOINT_NOT_FOUND"),
        ("POST", "/api/2.0/serving-endpoints", b"{not json", "x", 400, "MALFORMED_REQUEST"),
        ("POST", "/api/2.0/serving-endpoints", b"{}", "x", 400, "INVALID_PARAMETER_VALUE"),
        ("GET", "/api/2.1/unity-catalog/models/a.b.c/versions/x", None, "x", 400, None),
    ],
)
def test_errors_have_the_databricks_shape(
    sandbox: SandboxServer,
    method: str,
    path: str,
    body: bytes | None,
    token: str | None,
    status: int,
    code: str | None,
) -> None:
    got_status, got = call(sandbox, method, path, body, token)
    assert got_status == status
    assert set(got) == {"error_code", "message"}
    if code:
        assert got["error_code"] == code


def test_any_bearer_token_is_accepted(sandbox: SandboxServer) -> None:
    status, body = call(sandbox, "GET", "/api/2.0/serving-endpoints", token="whatever")
    assert status == 200 and isinstance(body["endpoints"], list)
