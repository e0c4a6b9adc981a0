"""Fail fast, name the host: a workspace that cannot be reached is an error within seconds,
naming the target and the host, with a hint that fits the cause (never throttling).

Each case runs ``reconciler plan`` through the CLI against a loopback address behaving badly
(bounds are generous: the machine running the suite may be slow; the figures are in the
report). Before, a refused connection took about 250 s: the SDK retried its host-metadata
probe for its whole retry window, then every read again.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from fixtures.project import copy_example_project

from reconciler.cli import cli

TOKEN = "dapi-UNREACHABLE-CANARY"
BOUND = 60.0


def plan_against(tmp_path: Path, host: str, *extra: str) -> tuple[Result, float]:
    project = copy_example_project(tmp_path / "project")
    config = yaml.safe_load((project / "reconciler.yaml").read_text())
    config["targets"]["far"] = {"type": "databricks", "host": host}
    (project / "reconciler.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    started = time.monotonic()
    result = CliRunner().invoke(
        cli, ["--project", str(project), "plan", "-t", "far", *extra], catch_exceptions=False
    )
    return result, time.monotonic() - started


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)


def assert_named(result: Result, host: str, cause: str, hint: str) -> None:
    assert result.exit_code == 1, result.output
    assert f"target 'far' ({host})" in result.output
    assert cause in result.output
    hints = [line for line in result.output.splitlines() if line.startswith("hint: ")]
    assert len(hints) == 1 and hint in hints[0], result.output
    assert "throttl" not in result.output
    assert TOKEN not in result.output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_refused_connection_fails_fast(tmp_path: Path) -> None:
    host = f"http://127.0.0.1:{free_port()}"
    result, seconds = plan_against(tmp_path, host)
    assert_named(result, host, "connection refused", "nothing listens at that address")
    assert seconds < BOUND


def test_a_name_that_does_not_resolve_fails_fast(tmp_path: Path) -> None:
    host = "https://no-such-workspace.invalid"
    result, seconds = plan_against(tmp_path, host)
    assert_named(result, host, "does not resolve (DNS)", "check the host name")
    assert seconds < BOUND


@pytest.fixture
def plain_http() -> Iterator[int]:
    """A plain-HTTP server, to be addressed as https (a TLS error)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_a_tls_error_fails_fast(tmp_path: Path, plain_http: int) -> None:
    host = f"https://127.0.0.1:{plain_http}"
    result, seconds = plan_against(tmp_path, host)
    assert_named(result, host, "TLS handshake failed", "is the scheme right")
    assert seconds < BOUND


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose connections are accepted (by the kernel) and never answered."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield int(s.getsockname()[1])


def test_a_host_that_never_answers_fails_after_the_read_timeout(
    tmp_path: Path, silent_port: int
) -> None:
    host = f"http://127.0.0.1:{silent_port}"
    result, seconds = plan_against(tmp_path, host)
    assert_named(result, host, "sent no answer within 15s", "is this a Databricks workspace URL")
    assert seconds < BOUND


def test_the_read_timeout_is_an_option(tmp_path: Path, silent_port: int) -> None:
    host = f"http://127.0.0.1:{silent_port}"
    result, seconds = plan_against(tmp_path, host, "--read-timeout", "2")
    assert_named(result, host, "sent no answer within 2s", "raise read_timeout")
    assert seconds < BOUND


@pytest.fixture
def refusing_credentials() -> Iterator[str]:
    """A workspace that answers the probe, then 401 to every API call."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status = 404 if self.path.startswith("/.well-known/") else 401
            body = b'{"error_code": "UNAUTHENTICATED", "message": "Credential was not sent."}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_authentication_failure_names_the_auth_method_never_the_token(
    tmp_path: Path, refusing_credentials: str
) -> None:
    result, seconds = plan_against(tmp_path, refusing_credentials)
    assert_named(
        result,
        refusing_credentials,
        "authentication failed (auth method tried: pat)",
        "check the credentials of that auth method",
    )
    assert seconds < BOUND
