"""The sandbox server: a threaded loopback server speaking the Databricks REST API.

Every API request: the workspace rate limit, then match a route, check the body's wire types,
apply injected faults (before touching state), then run the handler inside one store
transaction, answering JSON and Databricks-shaped errors. Framing (bad bytes on the socket)
is ``http_handler``'s.
"""

from __future__ import annotations

import difflib
import json
import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from reconciler.sandbox import (
    control,
    foundation,
    grants,
    invocations,
    mlflow_routes,
    optimization,
    permissions,
    scim,
    serving,
    uc_tags,
    unity_catalog,
    vector_indexes,
    vector_search,
    workspace_files,
)
from reconciler.sandbox.api import ApiError, RawReply, Request, Route, Router
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.faults import DropConnection, FaultInjector
from reconciler.sandbox.http_handler import Handler, HttpServer, Reply
from reconciler.sandbox.store import Doc, Store
from reconciler.sandbox.wire import check_body

log = logging.getLogger(__name__)
HOST_METADATA = "/.well-known/databricks-config"
CONTROL_PREFIX = "/sandbox/"

ROUTE_MODULES = (
    control,
    optimization,
    serving,
    invocations,
    permissions,
    unity_catalog,
    grants,
    uc_tags,
    mlflow_routes,
    vector_search,
    vector_indexes,
    workspace_files,
    scim,
)
"""Every route module; those serving an asset kind's API say which in ``SERVES``."""
ROUTER = Router([route for module in ROUTE_MODULES for route in module.router.routes])


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
        self._httpd: HttpServer | None = None
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
        self._httpd = HttpServer(("127.0.0.1", self.port), Handler)
        self._httpd.responder = self
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

    @property
    def read_timeout(self) -> float:
        return self.config.read_timeout

    @property
    def max_body_bytes(self) -> int:
        return self.config.max_body_bytes

    @property
    def log_requests(self) -> bool:
        return self.config.log_requests

    def respond(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """The answer to one well-framed request; never raises."""
        try:
            result = self._serve(method, target, headers, body)
        except DropConnection:
            return Reply.dropped()
        except ApiError as error:
            return Reply.json(error.status, error.body(), error.headers)
        except Exception:  # a sandbox bug must still answer, never hang the client
            log.exception("sandbox: %s %s failed", method, target[:200])
            return Reply.error(
                500, "INTERNAL_ERROR", "The sandbox failed to handle this request; see its log."
            )
        if isinstance(result, RawReply):
            return Reply(200, result.data, result.content_type, result.headers)
        return Reply.json(200, result if result is not None else {})

    def _serve(self, method: str, target: str, headers: Mapping[str, str], raw: bytes) -> Any:
        url = urlsplit(target)
        path = url.path
        if path == HOST_METADATA:
            raise ApiError(404, "NOT_FOUND", "No host metadata in the sandbox.")
        control = path.startswith(CONTROL_PREFIX)
        if not control:
            self.injector.throttle()
        body = _json_body(raw)
        if path == "/sandbox/faults":
            return self.faults_route(method, body)
        found = ROUTER.match(method, path)
        if found is None:
            raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")
        route, params = found
        if not route.control and not headers.get("authorization"):
            raise ApiError(401, "UNAUTHENTICATED", "Missing Authorization header.")
        check_body(route.operation, body)
        lost = False if route.control else self.injector.before(route.operation)
        result = self.dispatch(route, params, method, path, url.query, body)
        if lost:
            raise DropConnection()
        return result

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
                check_operations(faults.fail_operations)
            except ValueError as error:
                raise ApiError(400, "INVALID_PARAMETER_VALUE", str(error)) from None
            self.config.faults = faults
            self.injector.configure(faults)
        elif method != "GET":
            raise ApiError(
                404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} /sandbox/faults'"
            )
        return self.injector.faults.to_doc()


def _json_body(raw: bytes) -> Doc:
    """The request body as a JSON object; an empty body is ``{}``."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "MALFORMED_REQUEST", "Request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "MALFORMED_REQUEST", "Request body must be a JSON object.")
    return body


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def check_operations(names: Mapping[str, Any]) -> None:
    """A fail rule names an operation the sandbox serves (``serving_endpoints.update_config``):
    a misspelt one would never fire, and a test relying on it would pass for nothing."""
    known = sorted({route.operation for route in ROUTER.routes if not route.control})
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"fail_operations: no operation {name!r}{hint}")
