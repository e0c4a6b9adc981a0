"""The HTTP front of the sandbox: a threaded loopback server speaking the Databricks REST API.

Every API request: match a route, apply injected faults (before touching state), then run the
handler inside one store transaction, answering JSON and Databricks-shaped errors.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from reconciler.sandbox import (
    control,
    foundation,
    invocations,
    mlflow_routes,
    permissions,
    serving,
    uc_tags,
    unity_catalog,
    vector_indexes,
    vector_search,
    workspace_files,
)
from reconciler.sandbox.api import ApiError, RawReply, Request, Route, Router
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.faults import FaultInjector
from reconciler.sandbox.store import Store

ROUTER = Router(
    [
        *control.router.routes,
        *serving.router.routes,
        *invocations.router.routes,
        *permissions.router.routes,
        *unity_catalog.router.routes,
        *uc_tags.router.routes,
        *mlflow_routes.router.routes,
        *vector_search.router.routes,
        *vector_indexes.router.routes,
        *workspace_files.router.routes,
    ]
)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    sandbox: SandboxServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up mid-answer is normal (timeouts, Ctrl-C); say nothing.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HttpServer

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
        if self.server.sandbox.config.log_requests:
            sys.stderr.write("sandbox: " + (format % args) + "\n")

    def setup(self) -> None:
        super().setup()
        # Small JSON answers: without this, Nagle + delayed ACK add ~40 ms per call.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_raw(self, reply: RawReply) -> None:
        self.send_response(200)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.data)

    def _read_body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise ApiError(400, "MALFORMED_REQUEST", "Request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise ApiError(400, "MALFORMED_REQUEST", "Request body must be a JSON object.")
        return body

    def _handle(self, method: str) -> None:
        sandbox = self.server.sandbox
        url = urlsplit(self.path)
        try:
            body = self._read_body()
            if url.path == "/.well-known/databricks-config":
                raise ApiError(404, "NOT_FOUND", "No host metadata in the sandbox.")
            if url.path == "/sandbox/faults":
                self._send(200, sandbox.faults_route(method, body))
                return
            found = ROUTER.match(method, url.path)
            if found is None:
                raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {url.path}'")
            route, params = found
            if not route.control:
                if not self.headers.get("Authorization"):
                    raise ApiError(401, "UNAUTHENTICATED", "Missing Authorization header.")
                sandbox.injector.before(route.operation)
            result = sandbox.dispatch(route, params, method, url.path, url.query, body)
            if isinstance(result, RawReply):
                self._send_raw(result)
            else:
                self._send(200, result if result is not None else {})
        except ApiError as error:
            self._send(error.status, error.body(), error.headers)
        except ConnectionError:
            raise
        except Exception as error:  # a sandbox bug must still answer, never hang the client
            self._send(500, {"error_code": "INTERNAL_ERROR", "message": f"sandbox: {error!r}"})


class SandboxServer:
    """A sandbox workspace on 127.0.0.1, usable as a context manager.

    ``SandboxServer(state_dir)`` serves the state directory's database on an ephemeral port
    (``port=0``); ``.url`` is the host to give a WorkspaceClient.
    """

    def __init__(
        self, state_dir: Path, *, port: int = 0, config: SandboxConfig | None = None
    ) -> None:
        self.state_dir = Path(state_dir)
        self.config = config if config is not None else SandboxConfig().with_env()
        self.injector = FaultInjector(self.config.faults)
        self.port = port
        self.store: Store | None = None
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the sandbox server is not running")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> SandboxServer:
        self.store = Store(self.state_dir)
        with self.store.transaction() as tx:
            foundation.bootstrap(tx)
        self._httpd = _HttpServer(("127.0.0.1", self.port), _Handler)
        self._httpd.sandbox = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="reconciler-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Run in the foreground until interrupted (``reconciler sandbox serve``)."""
        if self._thread is None:
            self.start()
        try:
            while self._thread is not None and self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self.store is not None:
            self.store.close()
            self.store = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def dispatch(
        self,
        route: Route,
        params: dict[str, str],
        method: str,
        path: str,
        query: str,
        body: dict[str, Any],
    ) -> Any:
        if self.store is None:
            raise ApiError(503, "TEMPORARILY_UNAVAILABLE", "The sandbox is stopping.")
        with self.store.transaction() as tx:
            req = Request(
                method=method,
                path=path,
                params=params,
                query=parse_qs(query, keep_blank_values=True),
                body=body,
                tx=tx,
                config=self.config,
                now=time.time(),
                base_url=self.url,
            )
            return route.handler(req)

    def faults_route(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "POST":
            try:
                faults = self.injector.faults.updated(body)
            except (TypeError, ValueError) as error:
                raise ApiError(400, "INVALID_PARAMETER_VALUE", str(error)) from None
            self.config.faults = faults
            self.injector.configure(faults)
        elif method != "GET":
            raise ApiError(
                404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} /sandbox/faults'"
            )
        return self.injector.faults.to_doc()
