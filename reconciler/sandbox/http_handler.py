"""HTTP framing: whatever arrives on the socket gets a Databricks-shaped JSON answer.

Garbage included. A request line or headers that do not parse, an unknown method, a body that
is too large, shorter than its Content-Length or badly chunked: each is answered
``{"error_code", "message"}`` with a 4xx status and the connection is closed (its framing can
no longer be trusted). Never an HTML page, a Python traceback, or a connection left hanging:
a client that stops sending mid-request is answered after ``read_timeout``.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_CHUNK_SIZE = re.compile(rb"^[0-9A-Fa-f]{1,16}$")
_MAX_TRAILERS = 64
_LINGER_SECONDS = 1.0
_LINGER_BYTES = 16 * 1024 * 1024

# What the stdlib answers by itself (send_error), in Databricks words.
_STDLIB_ERRORS = {
    400: ("MALFORMED_REQUEST", "Malformed HTTP request."),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed."),
    408: ("REQUEST_TIMEOUT", "The request did not arrive in time."),
    413: ("REQUEST_ENTITY_TOO_LARGE", "The request is too large."),
    414: ("REQUEST_URI_TOO_LONG", "The request line is too long."),
    431: ("REQUEST_HEADER_FIELDS_TOO_LARGE", "The request headers are too large."),
    505: ("HTTP_VERSION_NOT_SUPPORTED", "Only HTTP/1.0 and HTTP/1.1 are served."),
}


@dataclass(frozen=True)
class Reply:
    status: int
    data: bytes
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    drop: bool = False
    """No answer at all: the connection is closed (an injected dropped connection)."""

    @classmethod
    def dropped(cls) -> Reply:
        return cls(0, b"", drop=True)

    @classmethod
    def json(cls, status: int, doc: Any, headers: Mapping[str, str] | None = None) -> Reply:
        return cls(status, json.dumps(doc).encode(), headers=dict(headers or {}))

    @classmethod
    def error(
        cls, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> Reply:
        return cls.json(status, {"error_code": code, "message": message}, headers)


class Responder(Protocol):
    """What answers a well-framed request (the sandbox server)."""

    @property
    def read_timeout(self) -> float: ...

    @property
    def max_body_bytes(self) -> int: ...

    @property
    def log_requests(self) -> bool: ...

    def respond(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Never raises: every outcome is a reply. ``headers`` are keyed in lower case."""


class FramingError(Exception):
    """The request's bytes cannot be read as one request: answer it and close."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.reply = Reply.error(status, code, message, {"Connection": "close"})


class HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    responder: Responder

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up mid-answer is normal (timeouts, Ctrl-C); say nothing.
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Errors found before the request line is parsed still get a status line and headers.
    default_request_version = "HTTP/1.0"
    server_version = "reconciler-sandbox"
    sys_version = ""
    server: HttpServer
    raw_requestline: bytes
    _drain = False
    """An error was answered before the request was read whole: drain before closing."""

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.responder.read_timeout)
        # Small JSON answers: without this, Nagle + delayed ACK add ~40 ms per call.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def finish(self) -> None:
        super().finish()
        if self._drain:
            self._linger()

    def _linger(self) -> None:
        """Read and drop what the client still sends, for a moment: closing a socket with
        unread input resets the connection, and the client could lose the answer."""
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(0.1)
            deadline, drained = time.monotonic() + _LINGER_SECONDS, 0
            while time.monotonic() < deadline and drained < _LINGER_BYTES:
                chunk = self.connection.recv(65536)
                if not chunk:
                    return
                drained += len(chunk)
        except OSError:
            return

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.responder.log_requests:
            sys.stderr.write("sandbox: " + (format % args) + "\n")

    def version_string(self) -> str:
        return self.server_version

    def parse_request(self) -> bool:
        if len(self.raw_requestline.split()) == 2:
            # HTTP/0.9 ("GET /path"): no headers, no status line. Not served.
            self.command, self.request_version = "", self.default_request_version
            self.requestline = ""
            self.send_error(400, "HTTP/0.9 requests are not served")
            return False
        if super().parse_request():
            return True
        if not self.requestline.split() and self.raw_requestline not in (b"\r\n", b"\n"):
            # The stdlib closes silently on a blank-but-not-empty line; answer it instead.
            self.send_error(400)
        return False

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib's own error answers (bad request line or headers, unknown method)."""
        headers = {"Connection": "close"}
        if code == 501:  # the stdlib's word for a method with no do_<METHOD>
            code = 405
            headers["Allow"] = ", ".join(METHODS)
            method = (self.command or "")[:40]
            text = f"Method {method!r} is not allowed; use {', '.join(METHODS)}."
            error_code = "METHOD_NOT_ALLOWED"
        else:
            error_code, text = _STDLIB_ERRORS.get(code, ("BAD_REQUEST", "Bad request."))
            if message and code == 400:
                text = f"{text} {message.split(' (')[0]}."
        self.close_connection = self._drain = True
        self._answer(Reply.error(code, error_code, text, headers))

    def _answer(self, reply: Reply) -> None:
        if reply.drop:
            self.close_connection = True
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.data)

    def _handle(self, method: str) -> None:
        try:
            body = self._read_body()
        except FramingError as error:
            self.close_connection = self._drain = True
            self._answer(error.reply)
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.server.responder.respond(method, self.path, headers, body)
        self._answer(reply)

    # --- the body ------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        encoding = self.headers.get("Transfer-Encoding")
        lengths = {v.strip() for v in self.headers.get_all("Content-Length") or []}
        if encoding is not None:
            if encoding.strip().lower() != "chunked":
                raise FramingError(
                    400, "MALFORMED_REQUEST", f"Unsupported Transfer-Encoding {encoding[:40]!r}."
                )
            if lengths:
                raise FramingError(
                    400,
                    "MALFORMED_REQUEST",
                    "A request cannot carry both Content-Length and Transfer-Encoding.",
                )
            return self._read_chunked()
        if not lengths:
            return b""
        if len(lengths) > 1:
            raise FramingError(400, "MALFORMED_REQUEST", "Conflicting Content-Length headers.")
        raw = lengths.pop()
        if not (raw.isascii() and raw.isdigit()):
            raise FramingError(
                400,
                "MALFORMED_REQUEST",
                f"Content-Length must be a non-negative integer, got {raw[:40]!r}.",
            )
        length = int(raw)
        self._check_size(length)
        return self._read_exact(length)

    def _check_size(self, length: int) -> None:
        limit = self.server.responder.max_body_bytes
        if length > limit:
            raise FramingError(
                413,
                "REQUEST_ENTITY_TOO_LARGE",
                f"The request body ({length} bytes) is larger than the {limit} bytes allowed.",
            )

    def _read_exact(self, length: int) -> bytes:
        try:
            data = self.rfile.read(length)
        except TimeoutError:
            data = b""
        if len(data) < length:
            raise FramingError(
                400,
                "MALFORMED_REQUEST",
                "The request body ended before its declared length"
                f" (no more bytes within {self.server.responder.read_timeout:g} s).",
            )
        return data

    def _read_line(self, what: str) -> bytes:
        try:
            line = self.rfile.readline(1024)
        except TimeoutError:
            line = b""
        if not line.endswith(b"\n"):
            raise FramingError(400, "MALFORMED_REQUEST", f"Malformed chunked body: bad {what}.")
        return line

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            size_field = self._read_line("chunk size").split(b";", 1)[0].strip()
            if not _CHUNK_SIZE.match(size_field):
                raise FramingError(400, "MALFORMED_REQUEST", "Malformed chunked body: bad size.")
            size = int(size_field, 16)
            if size == 0:
                break
            total += size
            self._check_size(total)
            parts.append(self._read_exact(size))
            if self._read_line("chunk end").strip():
                raise FramingError(400, "MALFORMED_REQUEST", "Malformed chunked body.")
        for _ in range(_MAX_TRAILERS):
            if not self._read_line("trailer").strip():
                return b"".join(parts)
        raise FramingError(400, "MALFORMED_REQUEST", "Malformed chunked body: too many trailers.")
