"""Garbage in, Databricks-style errors out: raw bytes on a socket, each kind of malformed
request answered with ``{"error_code", "message"}`` and the right status, never HTML, Python
text or a connection left hanging."""

from __future__ import annotations

import dataclasses
import http.client
import json
import time
from collections.abc import Callable

import pytest

from reconciler.sandbox import SandboxConfig, SandboxServer
from reconciler.sandbox import server as server_module

from .raw_http import (
    assert_databricks_error,
    exchange,
    one_answer,
    parse_answers,
    port_of,
    request,
)

CREATE = "/api/2.0/serving-endpoints"


@pytest.fixture
def small(sandbox_factory: Callable[..., SandboxServer]) -> SandboxServer:
    """A sandbox with a 4 KB body limit and a short read timeout."""
    config = SandboxConfig.fast()
    config.max_body_bytes = 4096
    config.read_timeout = 0.5
    return sandbox_factory(config)


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"name": "ep"', b"\xff\xfe\x00garbage", b'{"a": NaN}', b"[" * 100_000],
    ids=["broken", "truncated", "not-utf8", "nan", "deeply-nested"],
)
def test_broken_json_is_a_malformed_request(sandbox: SandboxServer, body: bytes) -> None:
    answer = one_answer(sandbox, request("POST", CREATE, body))
    assert_databricks_error(answer, 400, "MALFORMED_REQUEST")


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"42", b"null", b"true"])
def test_json_that_is_not_an_object_is_a_malformed_request(
    sandbox: SandboxServer, body: bytes
) -> None:
    answer = one_answer(sandbox, request("POST", CREATE, body))
    assert_databricks_error(answer, 400, "MALFORMED_REQUEST")
    assert "JSON object" in answer.doc["message"]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", CREATE, {"name": 123}, "name"),
        ("POST", CREATE, {"name": "ep", "config": "x"}, "config"),
        (
            "POST",
            CREATE,
            {"name": "ep", "config": {"served_entities": {}}},
            "config.served_entities",
        ),
        ("POST", CREATE, {"name": "ep", "tags": [{"key": 1}]}, "tags[0].key"),
        ("POST", CREATE, {"name": "ep", "route_optimized": "yes"}, "route_optimized"),
        (
            "PUT",
            f"{CREATE}/databricks-bge-large-en/ai-gateway",
            {"rate_limits": [{"calls": "100", "renewal_period": "minute"}]},
            "rate_limits[0].calls",
        ),
        (
            "POST",
            "/api/2.0/vector-search/endpoints",
            {"name": "vs", "endpoint_type": "STANDARD", "target_qps": "5"},
            "target_qps",
        ),
        (
            "POST",
            "/api/2.0/vector-search/indexes",
            {"name": "a.b.c", "direct_access_index_spec": {"schema_json": {"id": "int"}}},
            "direct_access_index_spec.schema_json",
        ),
        (
            "PUT",
            "/api/2.1/unity-catalog/models/a.b.c/aliases/champion",
            {"version_num": "3"},
            "version_num",
        ),
        ("POST", "/api/2.1/unity-catalog/models", {"catalog_name": ["main"]}, "catalog_name"),
        ("POST", "/api/2.0/workspace/import", {"path": "/x", "overwrite": 1}, "overwrite"),
    ],
)
def test_fields_of_the_wrong_type_are_a_malformed_request(
    sandbox: SandboxServer, method: str, path: str, body: object, field: str
) -> None:
    answer = one_answer(sandbox, request(method, path, json.dumps(body).encode()))
    assert_databricks_error(answer, 400, "MALFORMED_REQUEST")
    assert f"'{field}'" in answer.doc["message"]


def test_a_body_larger_than_allowed_is_413_without_being_read(small: SandboxServer) -> None:
    # Declared far larger than anything sent: answered at once from the header alone.
    started = time.monotonic()
    answer = one_answer(
        small, request("POST", CREATE, b"{}", headers={"Content-Length": str(10**12)})
    )
    assert_databricks_error(answer, 413, "REQUEST_ENTITY_TOO_LARGE")
    assert answer.headers["connection"] == "close"
    assert time.monotonic() - started < small.config.read_timeout
    huge = b'{"name": "' + b"x" * 10_000 + b'"}'
    assert_databricks_error(one_answer(small, request("POST", CREATE, huge)), 413)
    chunked = request(
        "POST",
        CREATE,
        b"%x\r\n%s\r\n0\r\n\r\n" % (len(huge), huge),
        headers={"Transfer-Encoding": "chunked"},
    )
    assert_databricks_error(one_answer(small, chunked), 413)


@pytest.mark.parametrize(
    "lengths", [["abc"], ["-1"], ["1e3"], [""], ["0x10"], ["\u0661\u0662"], ["5", "6"]]
)
def test_a_bad_content_length_is_400(sandbox: SandboxServer, lengths: list[str]) -> None:
    lines = [f"POST {CREATE} HTTP/1.1", "Authorization: Bearer x"]
    lines += [f"Content-Length: {v}" for v in lengths]
    data = ("\r\n".join(lines) + "\r\n\r\n{}").encode()
    answer = one_answer(sandbox, data)
    assert_databricks_error(answer, 400, "MALFORMED_REQUEST")
    assert "Content-Length" in answer.doc["message"]


def test_a_body_shorter_than_its_length_is_answered_not_hung(small: SandboxServer) -> None:
    data = request("POST", CREATE, b'{"na', headers={"Content-Length": "500"})
    # Keep our side open: the server must not wait for the rest forever.
    answer = one_answer(small, data, half_close=False, timeout=5)
    assert_databricks_error(answer, 400, "MALFORMED_REQUEST")
    assert "ended before its declared length" in answer.doc["message"]


def test_a_missing_content_length_means_no_body(sandbox: SandboxServer) -> None:
    # Nothing declares a body, so none is read: the request has no name.
    answer = one_answer(sandbox, request("POST", CREATE, headers={"Authorization": "Bearer x"}))
    assert_databricks_error(answer, 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize("method", ["PROPFIND", "BREW", "OPTIONS", "TRACE", "HEAD", "M-SEARCH"])
def test_unknown_methods_are_405(sandbox: SandboxServer, method: str) -> None:
    raw = exchange(sandbox, request(method, CREATE))
    (answer,) = parse_answers(raw, bodies=method != "HEAD")
    assert answer.status == 405
    assert answer.headers["allow"] == "GET, POST, PUT, PATCH, DELETE"
    if method != "HEAD":  # a HEAD answer has no body, by definition
        assert_databricks_error(answer, 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize("path", ["/", "/api/2.0/nothing", "/api/9.9/serving-endpoints", "/%ZZ"])
def test_unknown_paths_are_endpoint_not_found(sandbox: SandboxServer, path: str) -> None:
    answer = one_answer(sandbox, request("GET", path))
    assert_databricks_error(answer, 404, "ENDPOINT_NOT_FOUND")


@pytest.mark.parametrize(
    "noise",
    [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS ClientHello
        b"\x00" * 64,
        b"\xff\xfe\xfd garbage \x00\r\n\r\n",
        b"GET /\r\n",  # HTTP/0.9
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET / HTTX/1.1\r\n\r\n",
        b"   \t  \r\n",
        b"GET " + b"/a" * 40_000 + b" HTTP/1.1\r\n\r\n",
    ],
    ids=["tls", "nul", "binary", "http09", "http99", "bad-version", "blank", "long-line"],
)
def test_binary_noise_gets_a_json_error(sandbox: SandboxServer, noise: bytes) -> None:
    answer = one_answer(sandbox, noise)
    assert 400 <= answer.status < 600
    assert_databricks_error(answer, answer.status)
    assert answer.headers["connection"] == "close"


def test_headers_too_large_are_431(sandbox: SandboxServer) -> None:
    headers = {f"X-H{i}": "v" for i in range(200)}
    answer = one_answer(sandbox, request("GET", CREATE, headers=headers))
    assert_databricks_error(answer, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE")


def test_chunked_bodies_are_read_and_bad_chunking_is_400(sandbox: SandboxServer) -> None:
    body = b'{"name": "chunky", "config": 7}'
    parts = body[:10], body[10:]
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    headers = {"Transfer-Encoding": "chunked"}
    answer = one_answer(sandbox, request("POST", CREATE, chunked, headers=headers))
    assert_databricks_error(answer, 400, "MALFORMED_REQUEST")  # read whole: config is no object
    assert "'config'" in answer.doc["message"]
    for bad in (b"zz\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX0\r\n\r\n", b"5\r\n{}"):
        answer = one_answer(sandbox, request("POST", CREATE, bad, headers=headers))
        assert_databricks_error(answer, 400, "MALFORMED_REQUEST")
    gzip = request("POST", CREATE, b"{}", headers={"Transfer-Encoding": "gzip"})
    assert_databricks_error(one_answer(sandbox, gzip), 400, "MALFORMED_REQUEST")


def test_the_connection_stays_usable_after_a_well_framed_error(sandbox: SandboxServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port_of(sandbox), timeout=5)
    headers = {"Authorization": "Bearer x"}
    conn.request("POST", CREATE, body=b"{broken", headers=headers)
    first = conn.getresponse()
    assert first.status == 400 and json.loads(first.read())["error_code"] == "MALFORMED_REQUEST"
    conn.request("GET", CREATE, headers=headers)  # same keep-alive connection
    second = conn.getresponse()
    assert second.status == 200 and "endpoints" in json.loads(second.read())
    conn.close()


def test_handler_bugs_answer_500_without_python_text(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(req: object) -> None:
        raise KeyError("secret internals")

    routes = [
        dataclasses.replace(r, handler=broken) if r.operation == "serving_endpoints.list" else r
        for r in server_module.ROUTER.routes
    ]
    monkeypatch.setattr(server_module.ROUTER, "routes", routes)
    answer = one_answer(sandbox, request("GET", CREATE))
    assert_databricks_error(answer, 500, "INTERNAL_ERROR")
    assert "secret internals" not in answer.body.decode()
