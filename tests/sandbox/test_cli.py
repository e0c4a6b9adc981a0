"""``reconciler sandbox`` commands: register-version, seed, reset, serve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.sandbox import SandboxConfig, SandboxServer, workspace_client


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_register_version_then_reset(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    assert "version 1 (READY)" in run("sandbox", "register-version", "main.s.m", "--state", state)
    out = run(
        "sandbox", "register-version", "main.s.m", "--state", state,
        "--status", "FAILED_REGISTRATION",
    )  # fmt: skip
    assert "version 2 (FAILED_REGISTRATION)" in out
    with SandboxServer(Path(state), config=SandboxConfig.fast()) as server:
        sdk = workspace_client(server.url)
        statuses = [v.status.value for v in sdk.model_versions.list("main.s.m") if v.status]
        assert statuses == ["READY", "FAILED_REGISTRATION"]
    assert "reset" in run("sandbox", "reset", "--state", state)
    assert not (tmp_path / "state").exists()
    assert "nothing to reset" in run("sandbox", "reset", "--state", state)


def test_register_version_rejects_a_two_part_name(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["sandbox", "register-version", "s.m", "--state", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "<catalog>.<schema>.<model>" in result.output


def test_seed_registers_the_versions_the_example_project_names(example_project: Path) -> None:
    out = run("--project", str(example_project), "sandbox", "seed")
    assert "main.support.intent_classifier: versions 1..3 READY" in out
    out = run("--project", str(example_project), "sandbox", "seed")
    assert "already there" in out
    state = example_project / ".reconciler" / "sandbox"
    with SandboxServer(state, config=SandboxConfig.fast()) as server:
        sdk = workspace_client(server.url)
        versions = list(sdk.model_versions.list("main.support.intent_classifier"))
        assert [v.version for v in versions] == [1, 2, 3]
        assert all(v.status and v.status.value == "READY" for v in versions)


@pytest.mark.parametrize(
    "command",
    [
        ["sandbox", "seed", "-t", "prod"],
        ["sandbox", "register-version", "main.support.m", "-t", "dev"],
    ],
    ids=["seed", "register-version"],
)
def test_seed_on_a_databricks_target_is_refused_not_written_to_the_local_sandbox(
    example_project: Path, command: list[str]
) -> None:
    """The example's ``prod`` and ``dev`` are workspaces: versions written into the project's
    sandbox instead would report success while the target stays empty."""
    result = CliRunner().invoke(cli, ["--project", str(example_project), *command])
    assert result.exit_code == 1, result.output
    assert "is a Databricks workspace" in result.output
    assert "--state" in result.output and "Traceback" not in result.output
    assert not (example_project / ".reconciler").exists()


def test_seed_on_a_databricks_target_with_state_seeds_that_sandbox(
    example_project: Path, tmp_path: Path
) -> None:
    """A databricks target pointed at ``sandbox serve``: --state names the served directory."""
    state = tmp_path / "served"
    out = run(
        "--project", str(example_project), "sandbox", "seed", "-t", "prod", "--state", str(state)
    )
    assert "prod.support.intent_classifier: versions 1..3 READY" in out
    with SandboxServer(state, config=SandboxConfig.fast()) as server:
        sdk = workspace_client(server.url)
        versions = list(sdk.model_versions.list("prod.support.intent_classifier"))
        assert [v.version for v in versions] == [1, 2, 3]
    assert not (example_project / ".reconciler").exists()


def test_serve_prints_its_url_and_serves_with_the_given_faults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, object] = {}

    def serve_briefly(self: SandboxServer) -> None:
        # Instead of blocking until Ctrl-C: use the running server, then stop it.
        sdk = workspace_client(self.url)
        seen["endpoints"] = len(sdk.serving_endpoints.list())
        seen["faults"] = sdk.api_client.do("GET", "/sandbox/faults")
        self.stop()

    monkeypatch.setattr(SandboxServer, "serve_forever", serve_briefly)
    out = run(
        "sandbox", "serve", "--port", "0", "--state", str(tmp_path / "s"), "--quiet",
        "--latency-ms", "1", "--seed", "5", "--fail-operation", "serving_endpoints.create=503x1",
    )  # fmt: skip
    assert re.search(r"serving the Databricks REST API at http://127\.0\.0\.1:\d+", out)
    assert "export DATABRICKS_HOST=http://127.0.0.1:" in out
    assert seen["endpoints"] == 3
    faults = seen["faults"]
    assert isinstance(faults, dict)
    assert (faults["latency_ms"], faults["seed"]) == (1, 5)
    assert faults["fail_operations"] == {"serving_endpoints.create": {"status": 503, "times": 1}}


def test_serve_takes_the_rate_limit_and_workspace_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, object] = {}

    def serve_briefly(self: SandboxServer) -> None:
        sdk = workspace_client(self.url)
        seen["faults"] = sdk.api_client.do("GET", "/sandbox/faults")
        sdk.api_client.do(
            "POST",
            "/api/2.0/vector-search/endpoints",
            body={"name": "vs", "endpoint_type": "STANDARD"},
        )
        seen["vs"] = sdk.api_client.do("GET", "/api/2.0/vector-search/endpoints/vs")
        seen["config"] = self.config
        self.stop()

    monkeypatch.setattr(SandboxServer, "serve_forever", serve_briefly)
    run(
        "sandbox", "serve", "--port", "0", "--state", str(tmp_path / "s"), "--quiet",
        "--rate-limit", "50", "--pending-deletion", "2.5", "--budget-policy", "bp-ws",
        "--not-admin",
    )  # fmt: skip
    faults, vs, config = seen["faults"], seen["vs"], seen["config"]
    assert isinstance(faults, dict) and faults["rate_limit"] == 50
    assert isinstance(vs, dict) and vs["effective_budget_policy_id"] == "bp-ws"
    assert isinstance(config, SandboxConfig)
    assert config.delays.index_deletion == 2.5 and config.caller_is_admin is False


@pytest.mark.parametrize(
    "args",
    [
        ["--rate-limit", "0"],
        ["--rate-limit", "-5"],
        ["--fault-rate", "1.5"],
        ["--latency-ms", "-1"],
    ],
)
def test_serve_rejects_bad_settings_before_listening(tmp_path: Path, args: list[str]) -> None:
    result = CliRunner().invoke(
        cli, ["sandbox", "serve", "--port", "0", "--state", str(tmp_path / "s"), *args]
    )
    assert result.exit_code != 0
    assert "Invalid value" in result.output and args[0] in result.output
    assert "serving the Databricks REST API" not in result.output
