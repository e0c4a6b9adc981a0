"""A loopback HTTP listener that records every request it gets, headers and body included.

It stands in for a host credentials must (or must not) reach. By default it answers every
request with a Databricks-style 404; ``routes`` maps ``METHOD /path`` to a JSON answer, and
``redirect_to`` answers everything with a 307 to another listener.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: str

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass
class Listener:
    host: str = "127.0.0.1"
    routes: dict[str, Any] = field(default_factory=dict)
    redirect_to: str | None = None
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                listener.seen.append(Seen(self.command, self.path, dict(self.headers), body))
                if listener.redirect_to is not None:
                    self.send_response(307)
                    self.send_header("Location", listener.redirect_to + self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                route = f"{self.command} {urlsplit(self.path).path}"
                if route in listener.routes:
                    status, answer = 200, listener.routes[route]
                else:
                    status = 404
                    answer = {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "not here"}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._server.server_address[1]}"

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def authorized(self) -> Iterator[Seen]:
        return (s for s in self.seen if s.header("Authorization") is not None)
