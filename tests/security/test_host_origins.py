"""How hosts compare against RECONCILER_ALLOWED_HOSTS: as origins, normalised."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.adapters.hosts import (
    Origin,
    allowed_origins,
    check_allowed,
    check_mlflow_registry,
    connection_origin,
    parse_origin,
    resolved_host,
)
from reconciler.model.errors import WorkspaceError

WS = Origin("https", "adb-1.2.azuredatabricks.net", 443)


@pytest.mark.parametrize(
    "url",
    [
        "https://adb-1.2.azuredatabricks.net",
        "https://adb-1.2.azuredatabricks.net/",
        "adb-1.2.azuredatabricks.net",
        "HTTPS://ADB-1.2.AzureDatabricks.net:443/",
        "https://adb-1.2.azuredatabricks.net.",
        "  https://adb-1.2.azuredatabricks.net  ",
    ],
)
def test_spellings_of_one_workspace_are_one_origin(url: str) -> None:
    assert parse_origin(url) == WS
    assert str(parse_origin(url)) == "https://adb-1.2.azuredatabricks.net"


@pytest.mark.parametrize(
    "url",
    [
        "http://adb-1.2.azuredatabricks.net",  # plain http: the token would travel in clear
        "https://adb-1.2.azuredatabricks.net:8443",
        "https://adb-1.2.azuredatabricks.net.evil.example",
        "https://evil.example/adb-1.2.azuredatabricks.net",
        "https://adb-1.2.azuredatabricks.net@evil.example",
    ],
)
def test_lookalikes_are_other_origins(url: str) -> None:
    assert parse_origin(url) != WS
    with pytest.raises(WorkspaceError, match="is not in RECONCILER_ALLOWED_HOSTS"):
        check_allowed(url, where="t", env={"RECONCILER_ALLOWED_HOSTS": str(WS)})


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example\\@adb-1.2.azuredatabricks.net",
        "https://evil.example/\\@adb-1.2.azuredatabricks.net",
        "https://evil.example:443\\@adb-1.2.azuredatabricks.net",
    ],
)
def test_a_url_requests_would_send_elsewhere_is_refused(url: str) -> None:
    """``urllib.parse`` reads adb-1.2 as the host; requests connects to evil.example."""
    assert connection_origin(url) == Origin("https", "evil.example", 443)
    with pytest.raises(WorkspaceError, match=r"host https://evil\.example is not in RECONCILER_"):
        check_allowed(url, where="t", env={"RECONCILER_ALLOWED_HOSTS": str(WS)})


def test_both_readings_agree_on_ordinary_hosts() -> None:
    for url in ("https://adb-1.2.azuredatabricks.net/", "HTTP://127.0.0.1:8080", "[::1]:8443"):
        assert connection_origin(url) == parse_origin(url)
    assert str(parse_origin("http://[::1]:8080")) == "http://[::1]:8080"


def test_default_ports_fold_away_and_others_show() -> None:
    assert parse_origin("http://127.0.0.1:80") == Origin("http", "127.0.0.1", 80)
    assert str(parse_origin("http://127.0.0.1:8080/")) == "http://127.0.0.1:8080"


def test_unset_means_no_check_and_entries_are_trimmed() -> None:
    assert allowed_origins({}) is None
    check_allowed("https://anything.example", where="t", env={})
    env = {"RECONCILER_ALLOWED_HOSTS": " https://a.example , b.example/ ,"}
    assert allowed_origins(env) == [
        Origin("https", "a.example", 443),
        Origin("https", "b.example", 443),
    ]


def test_credentials_in_an_entry_are_refused_without_echoing_them() -> None:
    with pytest.raises(WorkspaceError, match="credentials do not belong"):
        allowed_origins({"RECONCILER_ALLOWED_HOSTS": "https://user:pw@a.example"})


def test_the_host_is_resolved_as_the_sdk_does_without_a_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "cfg"
    config.write_text("[P]\nhost = https://from-profile.example\ntoken = x\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(config))
    assert resolved_host({"profile": "P"})[0] == "https://from-profile.example"
    assert resolved_host({"host": "from-target.example"})[0] == "https://from-target.example"
    monkeypatch.setenv("DATABRICKS_HOST", "https://from-env.example")
    # The environment wins over a profile, the target's host: over both (the SDK's order).
    assert resolved_host({"profile": "P"})[0] == "https://from-env.example"
    assert resolved_host({"host": "https://t.example"})[0] == "https://t.example"
    monkeypatch.setenv("DATABRICKS_DISCOVERY_URL", "https://idp.example/.well-known/x")
    assert resolved_host({"host": "https://t.example"})[1] == "https://idp.example/.well-known/x"


def test_an_explicit_oidc_discovery_url_must_be_allowed_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from reconciler.adapters.hosts import check_databricks_config

    monkeypatch.setenv("RECONCILER_ALLOWED_HOSTS", "https://ws.example")
    check_databricks_config({"host": "https://ws.example"}, where="t")
    monkeypatch.setenv("DATABRICKS_DISCOVERY_URL", "https://idp.example/.well-known/x")
    with pytest.raises(WorkspaceError, match=r"OIDC discovery URL\): host https://idp.example"):
        check_databricks_config({"host": "https://ws.example"}, where="t")


@pytest.mark.parametrize(
    ("uri", "refused"),
    [
        ("sqlite:///mlflow.db", False),
        ("file:///tmp/mlruns", False),
        (None, False),
        ("https://mlflow.ws.example", False),
        ("https://mlflow.other.example", True),
        ("databricks-uc://GOOD", False),
        ("databricks-uc://BAD", True),
        ("databricks://BAD:prefix", True),
    ],
)
def test_mlflow_registries_are_checked_where_they_go_over_the_network(
    uri: str | None, refused: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "cfg"
    config.write_text(
        "[GOOD]\nhost = https://ws.example\ntoken = x\n[BAD]\nhost = https://evil.example\n"
    )
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(config))
    monkeypatch.setenv("RECONCILER_ALLOWED_HOSTS", "https://ws.example,https://mlflow.ws.example")
    if refused:
        with pytest.raises(WorkspaceError, match="is not in RECONCILER_ALLOWED_HOSTS"):
            check_mlflow_registry(uri, where="target 'reg'")
    else:
        check_mlflow_registry(uri, where="target 'reg'")


def test_the_sdk_still_has_the_steps_the_resolver_skips() -> None:
    """The resolver overrides the SDK's probe and auth steps by name; if an SDK release renames
    them, the override would silently stop applying (the listener tests would then see the
    probe). Fail here first, with the reason."""
    from databricks.sdk.config import Config

    from reconciler.adapters.hosts import _ResolveOnly

    for step in ("_resolve_host_metadata", "_validate", "init_auth"):
        assert step in vars(Config), f"databricks-sdk no longer has Config.{step}"
        assert step in vars(_ResolveOnly)
    assert list(_ResolveOnly.attributes()) == list(Config.attributes())
