"""RECONCILER_ALLOWED_HOSTS: a host outside the allowlist gets no request and no credential.

Each "workspace" here is a loopback listener recording every request and header. The host
reaches the tool the three ways the SDK resolves it (the target's ``host:``, a profile, and
``DATABRICKS_HOST``), with a token and with GitHub OIDC, through the commands that open a
workspace. The SDK's own constructor already sends a host-metadata probe and, for OIDC, asks
GitHub for an ID token: the refusal has to come before both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from fixtures.project import copy_example_project

from reconciler.cli import cli
from security.listener import Listener

TOKEN = "dapi-ALLOWLIST-CANARY"
GITHUB_REQUEST_TOKEN = "gh-request-CANARY"
ALLOWED = "https://adb-1.2.azuredatabricks.net,https://dbc-a1b2.cloud.databricks.com/"
SHOWN_ALLOWED = "(https://adb-1.2.azuredatabricks.net, https://dbc-a1b2.cloud.databricks.com)"
COMMANDS = {
    "plan": ("plan", "-t", "ws"),
    "apply": ("apply", "-t", "ws", "--auto-approve"),
    "drift": ("drift", "-t", "ws"),
    "import": ("import", "-t", "ws", "--out", "imported"),
    "unlock": ("unlock", "-t", "ws"),
}


@pytest.fixture
def workspace() -> Iterator[Listener]:
    with Listener() as listener:
        yield listener


@pytest.fixture
def github() -> Iterator[Listener]:
    """GitHub's ID-token endpoint, for the OIDC cases."""
    with Listener(routes={"GET /token": {"value": "github-id-token"}}) as listener:
        yield listener


def project_with(tmp_path: Path, target: dict[str, str]) -> Path:
    project = copy_example_project(tmp_path / "project")
    config = yaml.safe_load((project / "reconciler.yaml").read_text())
    config["targets"]["ws"] = {"type": "databricks", **target}
    (project / "reconciler.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return project


def run(project: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--project", str(project), *args], catch_exceptions=False)


@pytest.fixture
def pat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_AUTH_TYPE", "pat")
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)


@pytest.fixture
def oidc(monkeypatch: pytest.MonkeyPatch, github: Listener) -> Listener:
    """The environment a GitHub job with ``id-token: write`` and our workflows' env has."""
    monkeypatch.setenv("DATABRICKS_AUTH_TYPE", "github-oidc")
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", "reader-sp-client-id")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", f"{github.url}/token?api-version=2.0")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", GITHUB_REQUEST_TOKEN)
    return github


def assert_refused(result: Result, host: str) -> None:
    assert result.exit_code == 1, result.output
    assert f"host {host} is not in RECONCILER_ALLOWED_HOSTS {SHOWN_ALLOWED}" in result.output
    assert TOKEN not in result.output


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_host_from_the_project_file_outside_the_allowlist_gets_no_request(
    command: tuple[str, ...],
    workspace: Listener,
    tmp_path: Path,
    pat: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = project_with(tmp_path, {"host": workspace.url})
    monkeypatch.setenv("DATABRICKS_HOST", "https://adb-1.2.azuredatabricks.net")
    monkeypatch.setenv("RECONCILER_ALLOWED_HOSTS", ALLOWED)
    monkeypatch.chdir(tmp_path)
    assert_refused(run(project, *command), workspace.url)
    assert workspace.seen == []
    assert not (tmp_path / "imported").exists()


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_with_github_oidc_no_id_token_is_minted_for_an_unlisted_host(
    command: tuple[str, ...],
    workspace: Listener,
    oidc: Listener,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = project_with(tmp_path, {"host": workspace.url})
    monkeypatch.setenv("RECONCILER_ALLOWED_HOSTS", ALLOWED)
    monkeypatch.chdir(tmp_path)
    assert_refused(run(project, *command), workspace.url)
    assert workspace.seen == []
    assert oidc.seen == [], "GitHub was asked for an ID token"


def test_a_host_from_the_environment_is_checked(
    workspace: Listener, tmp_path: Path, pat: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = project_with(tmp_path, {})
    monkeypatch.setenv("DATABRICKS_HOST", workspace.url)
    monkeypatch.setenv("RECONCILER_ALLOWED_HOSTS", ALLOWED)
    for command in ("plan", "drift"):
        assert_refused(run(project, command, "-t", "ws"), workspace.url)
    assert workspace.seen == []


def test_a_host_from_a_profile_is_checked(
    workspace: Listener, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "databrickscfg"
    config.write_text(f"[CI]\nhost = {workspace.url}\ntoken = {TOKEN}\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(config))
    monkeypatch.setenv("RECONCILER_ALLOWED_HOSTS", ALLOWED)
    project = project_with(tmp_path, {"profile": "CI"})
    assert_refused(run(project, "plan", "-t", "ws"), workspace.url)
    assert workspace.seen == []


def test_no_host_at_all_is_refused_when_an_allowlist_is_set(
    tmp_path: Path, pat: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("RECONCILER_ALLOWED_HOSTS", ALLOWED)
    result = run(project_with(tmp_path, {}), "plan", "-t", "ws")
    assert result.exit_code == 1
    assert "no workspace host is configured" in result.output


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "RECONCILER_ALLOWED_HOSTS is set but lists no host"),
        (" , ", "RECONCILER_ALLOWED_HOSTS is set but lists no host"),
        ("https://*.cloud.databricks.com", "wildcards are not supported"),
        ("https://adb-1.2.azuredatabricks.net/api", "no path"),
        ("ftp://adb-1.2.azuredatabricks.net", "scheme 'ftp' is not http or https"),
        ("https://adb-1.2.azuredatabricks.net:port", "is not a workspace URL"),
    ],
)
def test_a_set_but_empty_or_malformed_allowlist_is_an_error(
    value: str,
    message: str,
    workspace: Listener,
    tmp_path: Path,
    pat: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECONCILER_ALLOWED_HOSTS", value)
    result = run(project_with(tmp_path, {"host": workspace.url}), "plan", "-t", "ws")
    assert result.exit_code == 1
    assert message in result.output
    assert workspace.seen == []


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_host_that_url_parsers_read_differently_gets_no_request(
    command: tuple[str, ...],
    workspace: Listener,
    tmp_path: Path,
    pat: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``http://EVIL\\@ALLOWED``: ``urllib.parse`` reads the host after the ``@``, but requests
    (urllib3) ends the authority at the backslash and connects to EVIL. It once did, with the
    token: the allowlist now checks where requests connects too."""
    with Listener() as allowed:
        host = f"{workspace.url}\\@{allowed.url.removeprefix('http://')}"
        monkeypatch.setenv("RECONCILER_ALLOWED_HOSTS", allowed.url)
        result = run(project_with(tmp_path, {"host": host}), *command)
        assert result.exit_code == 1, result.output
        assert f"host {workspace.url} is not in RECONCILER_ALLOWED_HOSTS ({allowed.url})" in (
            result.output
        )
        assert workspace.seen == [] and allowed.seen == []
        assert TOKEN not in result.output


def test_an_allowed_host_gets_the_requests_and_the_token(
    workspace: Listener, tmp_path: Path, pat: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same setup with the listener listed (spelled differently) does reach it."""
    spelled = workspace.url.replace("http://", "HTTP://") + "/"
    monkeypatch.setenv("RECONCILER_ALLOWED_HOSTS", f"https://adb-1.2.azuredatabricks.net,{spelled}")
    result = run(project_with(tmp_path, {"host": workspace.url}), "plan", "-t", "ws")
    assert "RECONCILER_ALLOWED_HOSTS" not in result.output
    assert any(s.path == "/.well-known/databricks-config" for s in workspace.seen)
    assert any(s.header("Authorization") == f"Bearer {TOKEN}" for s in workspace.seen)


def test_an_allowed_host_with_github_oidc_exchanges_and_uses_a_short_lived_token(
    workspace: Listener, oidc: Listener, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the workflows rely on: with only DATABRICKS_AUTH_TYPE, DATABRICKS_CLIENT_ID and
    GitHub's ACTIONS_ID_TOKEN_* variables, the SDK asks GitHub for an ID token for the audience
    the workspace advertises (the account id, a federation policy's default) and exchanges it."""
    workspace.routes.update(
        {
            "GET /.well-known/databricks-config": {
                "oidc_endpoint": f"{workspace.url}/oidc",
                "workspace_id": "1234",
                "account_id": "account-uuid",
                "token_federation_default_oidc_audiences": ["account-uuid"],
            },
            "GET /oidc/.well-known/oauth-authorization-server": {
                "authorization_endpoint": f"{workspace.url}/oidc/v1/authorize",
                "token_endpoint": f"{workspace.url}/oidc/v1/token",
            },
            "POST /oidc/v1/token": {
                "access_token": "short-lived-databricks-token",
                "token_type": "Bearer",
                "expires_in": 3600,
            },
        }
    )
    monkeypatch.setenv("RECONCILER_ALLOWED_HOSTS", workspace.url)
    run(project_with(tmp_path, {"host": workspace.url}), "plan", "-t", "ws")

    (asked,) = {s.path for s in oidc.seen}
    assert asked.endswith("&audience=account-uuid")
    assert {s.header("Authorization") for s in oidc.seen} == {f"Bearer {GITHUB_REQUEST_TOKEN}"}
    exchange = next(s for s in workspace.seen if s.path == "/oidc/v1/token")
    assert "subject_token=github-id-token" in exchange.body
    assert "client_id=reader-sp-client-id" in exchange.body
    api = [s for s in workspace.seen if s.path.startswith("/api/")]
    assert api
    assert {s.header("Authorization") for s in api} == {"Bearer short-lived-databricks-token"}
    # The GitHub ID token and the request token never reach the workspace API.
    for seen in api:
        assert GITHUB_REQUEST_TOKEN not in str(seen) and "github-id-token" not in str(seen)


def test_sandbox_targets_are_loopback_and_never_checked(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILER_ALLOWED_HOSTS", ALLOWED)
    assert run(example_project, "sandbox", "seed").exit_code == 0
    result = run(example_project, "plan", "-t", "sandbox")
    assert "RECONCILER_ALLOWED_HOSTS" not in result.output
    assert result.exit_code in (0, 2), result.output


def test_an_mlflow_registry_outside_the_allowlist_is_refused(
    workspace: Listener, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_example_project(tmp_path / "project")
    config = yaml.safe_load((project / "reconciler.yaml").read_text())
    config["targets"]["reg"] = {
        "type": "mlflow",
        "tracking_uri": workspace.url,
        "include": ["manifests/models.yaml"],
    }
    (project / "reconciler.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", TOKEN)
    monkeypatch.setenv("RECONCILER_ALLOWED_HOSTS", ALLOWED)
    result = run(project, "plan", "-t", "reg")
    assert_refused(result, workspace.url)
    # `sandbox seed` writes versions into an mlflow target's registry: the same rule.
    assert_refused(run(project, "sandbox", "seed", "-t", "reg"), workspace.url)
    assert workspace.seen == []
    # The local registry of the example project sends nothing anywhere: not checked.
    assert "RECONCILER_ALLOWED_HOSTS" not in run(project, "plan", "-t", "oss").output


@pytest.mark.parametrize(
    "spelling",
    [
        "  {url}",
        "\t{url}",
        "\n{url}",
        "ht\ttp{rest}",
        "databricks://CI",
        " databricks://CI",
        "data\tbricks://CI",
        "\tdatabricks-uc://CI",
    ],
    ids=[
        "space",
        "tab",
        "newline",
        "tab-in-scheme",
        "profile",
        "space-profile",
        "tab-in-profile-scheme",
        "tab-uc-profile",
    ],
)
def test_an_mlflow_tracking_uri_is_checked_as_mlflow_reads_it(
    spelling: str, workspace: Listener, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow parses the tracking URI with ``urllib.parse``, which drops leading whitespace
    and control characters and every tab or newline: ``" http://host"`` is an http registry
    and ``"data\tbricks://PROFILE"`` a Databricks one, to MLflow and to the check alike."""
    config_file = tmp_path / "databrickscfg"
    config_file.write_text(f"[CI]\nhost = {workspace.url}\ntoken = {TOKEN}\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(config_file))
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", TOKEN)
    monkeypatch.setenv("RECONCILER_ALLOWED_HOSTS", ALLOWED)
    project = copy_example_project(tmp_path / "project")
    config = yaml.safe_load((project / "reconciler.yaml").read_text())
    uri = spelling.format(url=workspace.url, rest=workspace.url.removeprefix("http"))
    config["targets"]["reg"] = {
        "type": "mlflow",
        "tracking_uri": uri,
        "include": ["manifests/models.yaml"],
    }
    (project / "reconciler.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    for command in (("plan", "-t", "reg"), ("drift", "-t", "reg")):
        assert_refused(run(project, *command), workspace.url)
    assert workspace.seen == []


def test_a_redirect_from_an_allowed_host_carries_no_token_to_another_host(
    tmp_path: Path, pat: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK's requests session follows redirects; requests drops Authorization when the
    host changes. Checked for the one client plan and apply use (reads and writes)."""
    from databricks.sdk.errors import DatabricksError

    from reconciler.adapters.databricks.client import target_client
    from reconciler.project import Target, TargetType

    with Listener(host="localhost") as elsewhere, Listener() as allowed:
        allowed.redirect_to = elsewhere.url
        monkeypatch.setenv("RECONCILER_ALLOWED_HOSTS", allowed.url)
        run(project_with(tmp_path, {"host": allowed.url}), "plan", "-t", "ws")

        target = Target(type=TargetType.DATABRICKS, host=allowed.url)
        writer = target_client(target)
        with pytest.raises(DatabricksError):
            writer.api_client.do("POST", "/api/2.0/serving-endpoints", body={"name": "x"})

        assert any(s.header("Authorization") == f"Bearer {TOKEN}" for s in allowed.seen)
        assert any(s.method == "POST" and s.path.startswith("/api/") for s in elsewhere.seen)
        assert [s for s in elsewhere.seen if s.path.startswith("/api/")], "nothing was redirected"
        assert list(elsewhere.authorized()) == []
        assert all(TOKEN not in str(s) for s in elsewhere.seen)
