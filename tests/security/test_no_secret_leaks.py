"""Secrets and tokens never appear in output, logs or plan files.

A project whose serving endpoint has an environment variable holding a ``{{secrets/...}}``
reference, on a ``databricks`` target pointed at a sandbox with a distinctive token, is driven
through every command, in every output format, with ``-v`` and ``--log-format json``, and
through failing calls. Every byte written is searched for the token and the secret's scope/key,
except the manifests ``import`` writes, which hold references as a manifest does. What apply sends
still carries the real reference (read back through the SDK).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from databricks.sdk import WorkspaceClient
from fixtures.project import copy_example_project

from reconciler.adapters.databricks.client import ClientSettings, sandbox_client
from reconciler.cli import cli
from reconciler.model.secrets import PLACEHOLDER
from reconciler.sandbox import SandboxServer, register_versions_up_to

TOKEN = "dapi-LEAK-CANARY-123"
SCOPE, KEY = "leakscope-7f3a", "leakkey-9c1e"
SECRET = "{{secrets/" + SCOPE + "/" + KEY + "}}"
OTHER_KEY = "leakkey-drifted-42d0"
CANARIES = (TOKEN, "LEAK-CANARY", SCOPE, KEY, OTHER_KEY, "{{secrets")
ENDPOINT = "support-intent"
JSON_LOGS = ("--log-format", "json")
FLAGS: tuple[tuple[str, ...], ...] = ((), ("-v",), JSON_LOGS, ("-v", *JSON_LOGS))


@dataclass
class Leaks:
    """Every text the commands produced, with where it came from."""

    seen: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, text: str) -> None:
        self.seen.append((where, text))

    def check(self) -> None:
        found = [
            (where, canary)
            for where, text in self.seen
            for canary in CANARIES
            if canary.lower() in text.lower()
        ]
        assert not found, f"secret material leaked: {found}"
        assert self.seen

    def debug_run(
        self, project: Path, *args: str, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``reconciler -vv ARGS`` in a real process (under pytest the root logger already
        has handlers, so only a subprocess shows the SDK's request logs), with ``env`` added
        to this one's; both streams kept."""
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        done = subprocess.run(
            [sys.executable, "-m", "reconciler", "--project", str(project), "-vv", *args],
            capture_output=True,
            text=True,
            env=inherited | dict(env or {}),
            timeout=120,
            check=False,
        )
        self.add(f"stdout of -vv {' '.join(args)}", done.stdout)
        self.add(f"stderr of -vv {' '.join(args)}", done.stderr)
        return done


def _invoke(project: Path, leaks: Leaks, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--project", str(project), *args])
    where = " ".join(args)
    leaks.add(f"stdout of {where}", result.stdout)
    leaks.add(f"stderr of {where}", result.stderr)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # With -v errors propagate: the traceback (and its message) is what a user would see.
        leaks.add(f"traceback of {where}", "".join(traceback.format_exception(result.exception)))
    return result


def _with_secret(project: Path) -> None:
    serving = project / "manifests" / "serving.yaml"
    doc = yaml.safe_load(serving.read_text())
    entity = doc["serving_endpoints"][0]["served_entities"][0]
    entity["environment_vars"] = {"API_KEY": SECRET, "LOG_LEVEL": "info"}
    serving.write_text(yaml.safe_dump(doc, sort_keys=False))


@pytest.fixture
def ws(sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example project with a secret env var and a `ws` Databricks target on the sandbox
    (host and token from the environment, as CI would set them)."""
    project = copy_example_project(tmp_path / "project")
    _with_secret(project)
    config = yaml.safe_load((project / "reconciler.yaml").read_text())
    config["targets"]["ws"] = {"type": "databricks"}
    (project / "reconciler.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    monkeypatch.setenv("DATABRICKS_HOST", sandbox.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    client = sandbox_client(sandbox.url, ClientSettings(retry_timeout_seconds=5))
    register_versions_up_to(client, "main.support.intent_classifier", 3)
    register_versions_up_to(client, "main.support.ticket_summarizer", 1)
    return project


@pytest.fixture
def sdk_on(sandbox: SandboxServer) -> WorkspaceClient:
    return sandbox_client(sandbox.url)


def _env_vars(client: WorkspaceClient) -> dict[str, str]:
    endpoint = client.serving_endpoints.get(ENDPOINT)
    assert endpoint.config is not None and endpoint.config.served_entities
    for entity in endpoint.config.served_entities:
        if entity.name == "champion":
            return dict(entity.environment_vars or {})
    raise AssertionError("champion entity not served")


def _files(root: Path) -> Iterator[Path]:
    for path in root.rglob("*"):
        if path.is_file() and ".reconciler" not in path.parts and path.suffix in (".json", ".yaml"):
            yield path


def test_validate_plan_and_plan_files_never_show_the_secret_or_token(
    ws: Path, sdk_on: WorkspaceClient, tmp_path: Path
) -> None:
    leaks = Leaks()
    for flags in FLAGS:
        assert _invoke(ws, leaks, *flags, "validate", "-t", "ws").exit_code == 0
        for fmt in ("text", "json", "markdown"):
            result = _invoke(ws, leaks, *flags, "plan", "-t", "ws", "--format", fmt)
            assert result.exit_code == 0, result.output
            assert PLACEHOLDER.search(result.stdout)  # the env var is shown, masked
    plan_file = tmp_path / "out" / "plan.json"
    assert _invoke(ws, leaks, "-v", "plan", "-t", "ws", "-o", str(plan_file)).exit_code == 0
    saved = plan_file.read_text()
    leaks.add("plan file", saved)
    doc = json.loads(saved)
    assert {"format_version", "target", "changes", "summary"} <= set(doc)
    assert "(secret sha256:" in saved  # sealed, not dropped
    leaks.check()

    applied = _invoke(ws, leaks, "-v", "--log-format", "json", "apply", "-t", "ws", str(plan_file))
    assert applied.exit_code == 0, applied.output
    leaks.check()
    # What was sent is the real reference: masking is for people, not for the workspace.
    assert _env_vars(sdk_on) == {"API_KEY": SECRET, "LOG_LEVEL": "info"}
    assert _invoke(ws, leaks, "plan", "-t", "ws", "--detailed-exitcode").exit_code == 0


def test_stale_secret_reference_refuses_the_saved_plan_without_naming_it(
    ws: Path, sdk_on: WorkspaceClient, tmp_path: Path
) -> None:
    leaks = Leaks()
    plan_file = tmp_path / "plan.json"
    assert _invoke(ws, leaks, "plan", "-t", "ws", "-o", str(plan_file)).exit_code == 0
    serving = ws / "manifests" / "serving.yaml"
    serving.write_text(serving.read_text().replace(KEY, OTHER_KEY))
    refused = _invoke(ws, leaks, "apply", "-t", "ws", str(plan_file))
    assert refused.exit_code == 1
    assert "was planned from other manifests: manifests/serving.yaml (changed)" in refused.stderr
    assert f"serving_endpoint.{ENDPOINT}" in refused.stderr
    assert "environment_vars.API_KEY" in refused.stderr
    leaks.check()
    assert ENDPOINT not in {e.name for e in sdk_on.serving_endpoints.list()}


def test_apply_drift_and_import_never_show_the_secret_or_token(
    ws: Path, sdk_on: WorkspaceClient, tmp_path: Path
) -> None:
    leaks = Leaks()
    result = _invoke(ws, leaks, "--log-format", "json", "apply", "-t", "ws", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert _env_vars(sdk_on)["API_KEY"] == SECRET
    # Someone points the variable at another secret by hand: drift shows it, masked.
    endpoint = sdk_on.serving_endpoints.get(ENDPOINT)
    assert endpoint.config is not None and endpoint.config.served_entities
    entities = endpoint.config.served_entities
    for entity in entities:
        if entity.name == "champion":
            entity.environment_vars = {"API_KEY": SECRET.replace(KEY, OTHER_KEY)}
    sdk_on.serving_endpoints.update_config_and_wait(
        ENDPOINT, served_entities=entities, traffic_config=endpoint.config.traffic_config
    )
    for flags in FLAGS:
        for fmt in ("text", "json", "markdown"):
            drift = _invoke(ws, leaks, *flags, "drift", "-t", "ws", "--format", fmt)
            assert drift.exit_code == 2, drift.output
            assert "environment_vars" in drift.stdout
    # Import into a project that does not declare the endpoint yet.
    other = tmp_path / "other"
    (other / "manifests").mkdir(parents=True)
    (other / "reconciler.yaml").write_text(
        "project: support-assistant\ninclude: ['manifests/**/*.yaml']\ndefault_target: ws\n"
        "targets: {ws: {type: databricks}}\n"
    )
    imported = _invoke(other, leaks, "-v", *JSON_LOGS, "import", "--kind", "serving_endpoint")
    assert imported.exit_code == 0, imported.output
    written = list(_files(other / "manifests"))
    assert written, [s for s in leaks.seen if "import" in s[0]]
    # The written manifest holds the live reference as it is (a manifest needs it: a
    # reference names where a secret is kept, never its value); nothing printed names it.
    assert any(SECRET.replace(KEY, OTHER_KEY) in p.read_text() for p in written)
    checked = _invoke(other, leaks, "plan", "--detailed-exitcode")
    assert checked.exit_code == 0, checked.output
    leaks.check()


@pytest.mark.parametrize("status", [401, 403])
def test_failing_calls_never_show_the_token(
    ws: Path, sandbox: SandboxServer, tmp_path: Path, status: int
) -> None:
    leaks = Leaks()
    plan_file = tmp_path / "plan.json"
    assert _invoke(ws, leaks, "plan", "-t", "ws", "-o", str(plan_file)).exit_code == 0
    failing = {op: status for op in ("serving_endpoints.get", "serving_endpoints.list")}
    faults = sandbox.injector.faults.updated({"fail_operations": failing})
    sandbox.injector.configure(faults)
    for flags in FLAGS:
        for args in (
            ("plan", "-t", "ws"),
            ("apply", "-t", "ws", "--auto-approve"),
            ("apply", "-t", "ws", str(plan_file)),
            ("drift", "-t", "ws", "--format", "json"),
            ("import", "--kind", "serving_endpoint", "-t", "ws", "--out", str(tmp_path / "i")),
        ):
            assert _invoke(ws, leaks, *flags, *args).exit_code != 0
    leaks.check()


@pytest.fixture
def wrong_host() -> Iterator[str]:
    """A host that is not a Databricks workspace: every path is an HTML 404."""

    class NotFound(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            body = b"<html><body>Not Found</body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _reply

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_wrong_host_and_bad_auth_config_never_show_the_token(
    ws: Path, wrong_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    leaks = Leaks()
    monkeypatch.setenv("DATABRICKS_HOST", wrong_host)
    for flags in FLAGS:
        for args in (("plan", "-t", "ws"), ("apply", "-t", "ws", "--auto-approve")):
            assert _invoke(ws, leaks, *flags, *args).exit_code != 0
    monkeypatch.setenv("DATABRICKS_AUTH_TYPE", "oauth-m2m")  # a config the SDK refuses
    for flags in FLAGS:
        failed = _invoke(ws, leaks, *flags, "plan", "-t", "ws")
        assert failed.exit_code != 0
    leaks.check()


def test_debug_logs_of_a_real_process_never_show_the_secret_or_token(
    ws: Path, sdk_on: WorkspaceClient, tmp_path: Path, wrong_host: str
) -> None:
    """``-vv`` turns on the SDK's request/response logging (bodies included) in a real process
    (under pytest the root logger already has handlers, so only a subprocess shows it)."""
    leaks = Leaks()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return leaks.debug_run(ws, *args)

    plan_file = tmp_path / "plan.json"
    done = run("plan", "-t", "ws", "-o", str(plan_file))
    assert done.returncode == 0, done.stderr
    assert "GET /api/2.0/serving-endpoints" in done.stderr  # the SDK's debug log is on
    done = run("--log-format", "json", "apply", "-t", "ws", str(plan_file))
    assert done.returncode == 0, done.stderr
    assert _env_vars(sdk_on)["API_KEY"] == SECRET
    wrong = leaks.debug_run(ws, "plan", "-t", "ws", env={"DATABRICKS_HOST": wrong_host})
    assert wrong.returncode == 1
    leaks.check()
