"""Reaching a tracking server: fast failures that name the host and the target, and paging.

An unreachable server fails in seconds (one probe, a few retries of refused connections)
instead of after MLflow's own minutes of retries; the error names the host, the target and the
cause, with a hint that fits it. The bounds in these tests are generous (under 60 s, as issue
11 asks); benchmarks and the docs give the real figures.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner, Result
from fixtures.mlflow_registry import Registry
from fixtures.mlflow_server import MlflowServer
from mlflow.exceptions import MlflowException
from mlflow.utils.rest_utils import verify_rest_response

from reconciler.adapters.mlflow import MlflowWorkspace, reach
from reconciler.adapters.mlflow.failures import hint_for
from reconciler.cli import cli
from reconciler.model.changes import Action, Change
from reconciler.model.errors import WorkspaceError
from reconciler.model.live import ReadRequest
from reconciler.model.resources import KindName, address_of

MANIFEST = "registered_models:\n  - name: support.m\n    aliases: {champion: 1}\n"


def closed_port() -> int:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def project_for(root: Path, uri: str) -> Path:
    (root / "manifests").mkdir(parents=True)
    (root / "manifests" / "models.yaml").write_text(MANIFEST)
    (root / "reconciler.yaml").write_text(
        f'project: reach\ntargets:\n  team: {{type: mlflow, tracking_uri: "{uri}"}}\n'
    )
    return root


def timed_plan(root: Path) -> tuple[Result, float]:
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["--project", str(root), "plan", "-t", "team"])
    return result, time.monotonic() - started


def test_plan_against_a_closed_port_fails_fast_naming_host_and_target(tmp_path: Path) -> None:
    port = closed_port()
    result, seconds = timed_plan(project_for(tmp_path, f"http://127.0.0.1:{port}"))
    assert result.exit_code == 1, result.output
    assert seconds < 60  # MLflow alone retries for about 250 s
    assert f"cannot reach the MLflow tracking server at 127.0.0.1:{port}" in result.output
    assert "(target 'team')" in result.output and "connection was refused" in result.output
    assert "mlflow server" in result.output  # the hint fits the cause
    assert "throttl" not in result.output and "Traceback" not in result.output


def test_a_host_that_does_not_resolve_fails_fast(tmp_path: Path) -> None:
    uri = "http://reconciler-no-such-host.invalid:5000"  # .invalid never resolves (RFC 2606)
    result, seconds = timed_plan(project_for(tmp_path, uri))
    assert result.exit_code == 1, result.output
    assert seconds < 60
    assert "reconciler-no-such-host.invalid:5000 (target 'team')" in result.output
    assert "does not resolve" in result.output and "DNS" in result.output


@pytest.mark.mlflow_server
def test_https_to_a_plain_http_server_is_a_tls_failure(
    tmp_path: Path, mlflow_server: MlflowServer
) -> None:
    uri = mlflow_server.url.replace("http://", "https://")
    result, seconds = timed_plan(project_for(tmp_path, uri))
    assert result.exit_code == 1, result.output
    assert seconds < 60
    assert "TLS handshake failed" in result.output
    assert "MLFLOW_TRACKING_SERVER_CERT_PATH" in result.output


@pytest.mark.mlflow_server
def test_an_address_without_mlflows_api_says_what_to_check(
    tmp_path: Path, mlflow_server: MlflowServer
) -> None:
    result, _ = timed_plan(project_for(tmp_path, f"{mlflow_server.url}/not-mlflow"))
    assert result.exit_code == 1, result.output
    assert "404" in result.output
    assert "no MLflow REST API at that address" in result.output
    assert "<html" not in result.output  # the server's page is cut down to one short line


def test_a_port_that_takes_the_connection_but_never_answers() -> None:
    with socket.socket() as silent:  # the kernel completes the handshake; nobody answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        ws = MlflowWorkspace(f"http://127.0.0.1:{port}", target="team", read_timeout=1.0)
        started = time.monotonic()
        with pytest.raises(WorkspaceError, match="did not answer within 1s") as caught:
            ws.read(ReadRequest(assets=[(KindName.REGISTERED_MODEL, "m")]))
    assert time.monotonic() - started < 30  # not retried: a stuck server stays stuck
    assert f"127.0.0.1:{port} (target 'team')" in caught.value.message


def test_the_read_timeout_option_bounds_the_probe_of_a_tracking_server(tmp_path: Path) -> None:
    """--read-timeout (and a target's read_timeout) are not only for databricks targets: on
    an mlflow target they used to be accepted and ignored (the probe waited its own 10 s)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        root = project_for(tmp_path, f"http://127.0.0.1:{silent.getsockname()[1]}")
        started = time.monotonic()
        result = CliRunner().invoke(
            cli, ["--project", str(root), "plan", "-t", "team", "--read-timeout", "1"]
        )
        seconds = time.monotonic() - started
    assert result.exit_code == 1, result.output
    assert "did not answer within 1s" in result.output
    assert seconds < 60
    assert reach.READ_TIMEOUT == 10.0  # the default it replaced


def test_a_targets_connect_and_read_timeouts_reach_the_mlflow_probe(tmp_path: Path) -> None:
    root = project_for(tmp_path, "http://127.0.0.1:5000")
    text = (root / "reconciler.yaml").read_text()
    (root / "reconciler.yaml").write_text(
        text.replace('"}', '", connect_timeout: 2, read_timeout: 30}')
    )
    from reconciler.adapters import mlflow_workspace
    from reconciler.manifest import load_project

    project = load_project(root)
    ws = mlflow_workspace(project, "team", project.targets["team"])
    assert (ws._connect_timeout, ws._read_timeout) == (2, reach.READ_TIMEOUT)  # never longer


def test_the_probe_runs_once_and_its_failure_is_kept() -> None:
    ws = MlflowWorkspace(f"http://127.0.0.1:{closed_port()}", target="team", connect_budget=0)
    request = ReadRequest(assets=[(KindName.REGISTERED_MODEL, "m")])
    with pytest.raises(WorkspaceError, match="connection was refused"):
        ws.read(request)
    started = time.monotonic()
    with pytest.raises(WorkspaceError, match="connection was refused"):
        ws.read(request)
    assert time.monotonic() - started < 0.5  # no second probe


def test_a_server_gone_after_the_probe_names_the_host_and_the_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    url = f"http://127.0.0.1:{closed_port()}"
    # A client handed in skips the probe: the state of a run whose server went away later.
    ws = MlflowWorkspace(url, project="p", target="team", client=MlflowClient(url, url))
    change = Change(
        address=address_of(KindName.REGISTERED_MODEL, "m"),
        kind=KindName.REGISTERED_MODEL,
        name="m",
        action=Action.CREATE,
        desired={"name": "m"},
    )
    with pytest.raises(WorkspaceError) as caught:
        ws.apply_change(change, None)
    assert caught.value.address == "registered_model.m"
    assert "cannot reach the MLflow tracking server at 127.0.0.1" in caught.value.message
    assert "refused" in caught.value.message and "'team'" in caught.value.message


def test_a_refused_login_names_the_credentials_mlflow_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answer = requests.Response()  # what `mlflow server --app-name basic-auth` answers
    answer.status_code = 401
    answer._content = b"You are not authenticated. Please see the docs."
    with pytest.raises(MlflowException) as caught:
        verify_rest_response(answer, "/api/2.0/mlflow/registered-models/get")
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    hint = hint_for(caught.value)
    assert hint is not None and "basic auth (MLFLOW_TRACKING_USERNAME" in hint
    assert "alice" not in hint
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME")
    assert "MLflow sent no credentials" in (hint_for(caught.value) or "")


def test_listing_for_prune_follows_page_tokens(registry: Registry) -> None:
    ws = MlflowWorkspace(registry.uri, project=registry.project)
    ws.page_size = 2
    names = [registry.name(f"m{i}") for i in range(5)]
    for name in names:
        change = Change(
            address=address_of(KindName.REGISTERED_MODEL, name),
            kind=KindName.REGISTERED_MODEL,
            name=name,
            action=Action.CREATE,
            desired={"name": name},
        )
        ws.apply_change(change, None)
    registry.client.create_registered_model(registry.name("theirs"))  # not ours: not listed

    state = ws.read(ReadRequest(owned_by=registry.project, owned_kinds=[KindName.REGISTERED_MODEL]))
    assert sorted(state.assets) == [f"registered_model.{n}" for n in names]
    assert state.api_calls == 3  # pages of 2, 2 and 1
    assert set(names) <= set(ws.list_names(KindName.REGISTERED_MODEL))
