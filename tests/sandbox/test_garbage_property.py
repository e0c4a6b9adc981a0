"""Random bytes and random near-HTTP at the sandbox: every answer is well-framed HTTP with a JSON
body (an ``error_code`` on every error), and the server still serves afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.sandbox import SandboxConfig, SandboxServer

from .raw_http import assert_databricks_error, exchange, one_answer, parse_answers, request

PATHS = [
    "/api/2.0/serving-endpoints",
    "/api/2.0/serving-endpoints/databricks-bge-large-en/config",
    "/api/2.0/vector-search/indexes",
    "/api/2.1/unity-catalog/models",
    "/sandbox/faults",
    "/.well-known/databricks-config",
]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "PROPFIND", "BREW", "HEAD"]
header_text = st.text(
    st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"),
    min_size=1,
    max_size=20,
)


@st.composite
def near_http(draw: st.DrawFn) -> bytes:
    """A request line, headers and a body, any of them possibly wrong."""
    method = draw(st.sampled_from(METHODS) | header_text)
    path = draw(st.sampled_from(PATHS) | st.text(max_size=30).map(lambda t: "/" + t))
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2", "FOO", ""]))
    headers = draw(st.dictionaries(header_text, header_text, max_size=4))
    body = draw(
        st.binary(max_size=300)
        | st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=10),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=10), inner, max_size=3)
            ),
            max_leaves=8,
        ).map(lambda v: json.dumps(v).encode())
    )
    framing = draw(st.sampled_from(["exact", "missing", "short", "garbage", "chunked"]))
    if framing == "exact":
        headers["Content-Length"] = str(len(body))
    elif framing == "short":
        headers["Content-Length"] = str(len(body) + draw(st.integers(1, 50)))
    elif framing == "garbage":
        headers["Content-Length"] = draw(header_text)
    elif framing == "chunked":
        headers["Transfer-Encoding"] = "chunked"
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    line = f"{method} {path} {version}".strip().encode("utf-8", "replace")
    head = b"\r\n".join([line, *(f"{k}: {v}".encode() for k, v in headers.items())])
    return head + b"\r\n\r\n" + body


def check_answers(raw: bytes, sent: bytes) -> None:
    try:
        answers = parse_answers(raw)
    except AssertionError:
        if not sent.startswith(b"HEAD"):
            raise
        answers = parse_answers(raw, bodies=False)  # a HEAD answer carries no body
    if not answers:
        # Only an empty line gets no answer (the connection just closes), as in any server.
        assert sent == b"" or sent.startswith((b"\r\n", b"\n")), (sent[:80], raw[:200])
    for answer in answers:
        assert answer.status != 500, answer.body  # garbage is the client's fault, never a crash
        if answer.status >= 400 and answer.body:
            assert_databricks_error(answer, answer.status)
        elif answer.body:
            assert isinstance(answer.doc, dict)


@pytest.fixture(scope="module")
def garbage_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """One server for every example (hypothesis runs them all in one test call)."""
    config = SandboxConfig.fast()
    config.read_timeout = 0.5
    with SandboxServer(tmp_path_factory.mktemp("garbage"), config=config) as server:
        yield server


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=512) | near_http())
def test_garbage_gets_json_errors_and_the_server_keeps_serving(
    garbage_server: SandboxServer, data: bytes
) -> None:
    check_answers(exchange(garbage_server, data), data)
    alive = one_answer(garbage_server, request("GET", "/sandbox/health"))
    assert (alive.status, alive.doc) == (200, {"status": "ok"})
