"""Raw bytes to the sandbox and the answers parsed back, for the garbage-in tests."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from typing import Any

from reconciler.sandbox import SandboxServer


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    doc: Any = field(default=None)


def port_of(server: SandboxServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def exchange(
    server: SandboxServer, data: bytes, *, half_close: bool = True, timeout: float = 10
) -> bytes:
    """Send ``data``, then read until the server closes (``half_close``: say we are done)."""
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (e.g. 413) and closed: read what it said
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
    return received


def parse_answers(raw: bytes, *, bodies: bool = True) -> list[Answer]:
    """Every response in ``raw``; fails the test on anything that is not well-framed HTTP.

    ``bodies=False``: answers to HEAD, whose Content-Length describes a body never sent.
    """
    answers = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        assert sep, f"unterminated response head: {raw[:200]!r}"
        lines = head.decode("latin-1").split("\r\n")
        version, status, *_ = lines[0].split(" ", 2)
        assert version in ("HTTP/1.0", "HTTP/1.1"), lines[0]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers["content-length"]) if bodies else 0
        body, raw = rest[:length], rest[length:]
        assert len(body) == length, "response body shorter than its Content-Length"
        doc = json.loads(body) if body else None
        answers.append(Answer(int(status), headers, body, doc))
    return answers


def one_answer(server: SandboxServer, data: bytes, **kwargs: Any) -> Answer:
    answers = parse_answers(exchange(server, data, **kwargs))
    assert len(answers) == 1, answers
    return answers[0]


def request(
    method: str,
    path: str,
    body: bytes | None = None,
    *,
    headers: dict[str, str] | None = None,
    auth: bool = True,
) -> bytes:
    """An HTTP/1.1 request; Content-Length is added for a body unless a header sets one."""
    lines = [f"{method} {path} HTTP/1.1", "Host: sandbox"]
    all_headers = dict(headers or {})
    if auth:
        all_headers.setdefault("Authorization", "Bearer x")
    framed = {k.lower() for k in all_headers} & {"content-length", "transfer-encoding"}
    if body is not None and not framed:
        all_headers["Content-Length"] = str(len(body))
    lines += [f"{k}: {v}" for k, v in all_headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def assert_databricks_error(answer: Answer, status: int, code: str | None = None) -> None:
    """A JSON error body in the Databricks shape: no HTML, no Python text."""
    assert answer.status == status, (answer.status, answer.body)
    assert answer.headers["content-type"] == "application/json"
    assert isinstance(answer.doc, dict) and set(answer.doc) == {"error_code", "message"}
    if code is not None:
        assert answer.doc["error_code"] == code, answer.doc
    text = answer.body.decode()
    for leak in ("Traceback", "<html", "<!DOCTYPE", "Error(", "Exception", 'File "'):
        assert leak not in text, text
