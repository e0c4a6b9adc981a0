"""External-model credentials never appear in output, logs or plan files.

An endpoint routes to OpenAI with its key and an Entra ID client secret given as secret
references, and to a custom provider with a bearer token reference; the project runs on a
``databricks`` target pointed at a sandbox. Every command, output format and log format (the
SDK's own request logging in a real process included) is searched for the references' scopes
and keys; a saved plan holds them sealed; apply of that plan sends the real references (read
back through the SDK); a plaintext credential written in a manifest is refused without ever
being repeated, with tracebacks shown.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from databricks.sdk import WorkspaceClient
from fixtures.project import copy_example_project

from reconciler.adapters.databricks.client import ClientSettings, sandbox_client
from reconciler.model.secrets import PLACEHOLDER
from reconciler.sandbox import SandboxServer, register_versions_up_to
from security.test_no_secret_leaks import FLAGS, JSON_LOGS, Leaks, _invoke

SCOPE = "credscope-5e21"
KEYS = ("openaikey-81c3", "entrakey-47d9", "bearerkey-2a6f", "rotatedkey-9b04")
PLAINTEXT = "sk-PLAINTEXT-CANARY-7731"
CANARIES = (SCOPE, *KEYS, PLAINTEXT, "PLAINTEXT-CANARY")
"""(A hint may show the form to write, ``{{secrets/SCOPE/KEY}}``: it names no secret.)"""
ENDPOINT = "support-bot"


def ref(key: str) -> str:
    return "{{secrets/" + SCOPE + "/" + key + "}}"


def _chat_endpoint(openai_key: str = KEYS[0]) -> dict[str, object]:
    return {
        "name": ENDPOINT,
        "served_entities": [
            {
                "name": "gpt",
                "external_model": {
                    "name": "gpt-4o",
                    "provider": "openai",
                    "task": "llm/v1/chat",
                    "openai_config": {
                        "openai_api_key": ref(openai_key),
                        "openai_api_base": "https://example.openai.azure.com",
                    },
                },
            },
            {
                "name": "mine",
                "external_model": {
                    "name": "mine-1",
                    "provider": "custom",
                    "task": "llm/v1/chat",
                    "custom_provider_config": {
                        "custom_provider_url": "https://llm.example.com/v1",
                        "bearer_token_auth": {"token": ref(KEYS[2])},
                    },
                },
            },
        ],
        "traffic": {"gpt": 70, "mine": 30},
    }


def _write(project: Path, endpoint: dict[str, object]) -> None:
    path = project / "manifests" / "chat.yaml"
    path.write_text(yaml.safe_dump({"serving_endpoints": [endpoint]}, sort_keys=False))


class Canaries(Leaks):
    def check(self) -> None:
        found = [
            (where, canary)
            for where, text in self.seen
            for canary in CANARIES
            if canary.lower() in text.lower()
        ]
        assert not found, f"credential material leaked: {found}"
        assert self.seen


@pytest.fixture
def ws(sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = copy_example_project(tmp_path / "project")
    _write(project, _chat_endpoint())
    config = yaml.safe_load((project / "reconciler.yaml").read_text())
    config["targets"]["ws"] = {"type": "databricks"}
    (project / "reconciler.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    monkeypatch.setenv("DATABRICKS_HOST", sandbox.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-credential-test")
    client = sandbox_client(sandbox.url, ClientSettings(retry_timeout_seconds=5))
    register_versions_up_to(client, "main.support.intent_classifier", 3)
    register_versions_up_to(client, "main.support.ticket_summarizer", 1)
    return project


def _sent(client: WorkspaceClient) -> dict[str, object]:
    raw = client.api_client.do("GET", f"/api/2.0/serving-endpoints/{ENDPOINT}")
    assert isinstance(raw, dict)
    config = raw.get("config") or raw["pending_config"]
    return {e["name"]: e["external_model"] for e in config["served_entities"]}


def test_credentials_never_show_in_plans_plan_files_apply_or_drift(
    ws: Path, sandbox: SandboxServer, tmp_path: Path
) -> None:
    leaks = Canaries()
    for flags in FLAGS:
        assert _invoke(ws, leaks, *flags, "validate", "-t", "ws").exit_code == 0
        for fmt in ("text", "json", "markdown"):
            planned = _invoke(ws, leaks, *flags, "plan", "-t", "ws", "--format", fmt)
            assert planned.exit_code == 0, planned.output
            assert PLACEHOLDER.search(planned.stdout)
    plan_file = tmp_path / "plan.json"
    assert _invoke(ws, leaks, "-v", "plan", "-t", "ws", "-o", str(plan_file)).exit_code == 0
    saved = plan_file.read_text()
    leaks.add("plan file", saved)
    assert saved.count("(secret sha256:") >= 2, "sealed, not dropped"
    assert json.loads(saved)["changes"]
    applied = _invoke(ws, leaks, "-v", *JSON_LOGS, "apply", "-t", "ws", str(plan_file))
    assert applied.exit_code == 0, applied.output
    client = sandbox_client(sandbox.url)
    sent = _sent(client)
    assert sent["gpt"]["openai_config"]["openai_api_key"] == ref(KEYS[0])  # type: ignore[index]
    token = sent["mine"]["custom_provider_config"]["bearer_token_auth"]["token"]  # type: ignore[index]
    assert token == ref(KEYS[2])
    # The key is rotated to another secret: plan and drift show a change, never the reference.
    _write(ws, _chat_endpoint(KEYS[3]))
    for flags in FLAGS:
        for fmt in ("text", "json", "markdown"):
            drift = _invoke(ws, leaks, *flags, "drift", "-t", "ws", "--format", fmt)
            assert drift.exit_code == 2, drift.output
            assert "served_entities.gpt.external_model" in drift.stdout
    rotated = _invoke(ws, leaks, *JSON_LOGS, "apply", "-t", "ws", "--auto-approve")
    assert rotated.exit_code == 0, rotated.output
    assert _sent(client)["gpt"]["openai_config"]["openai_api_key"] == ref(KEYS[3])  # type: ignore[index]
    leaks.check()


def test_a_plaintext_credential_is_refused_and_never_repeated(ws: Path) -> None:
    leaks = Canaries()
    endpoint = _chat_endpoint()
    gpt = endpoint["served_entities"][0]["external_model"]  # type: ignore[index]
    gpt["openai_config"] = {"openai_api_key_plaintext": PLAINTEXT}
    _write(ws, endpoint)
    for flags in FLAGS:
        for command in ("validate", "plan", "drift"):
            refused = _invoke(ws, leaks, *flags, command, "-t", "ws")
            assert refused.exit_code == 1, refused.output
            said = refused.stderr + str(refused.exception or "")  # -v raises instead
            assert "openai_api_key_plaintext holds a plaintext credential" in said
            assert "manifests/chat.yaml:" in said or "-v" in flags
    gpt["openai_config"] = {"openai_api_key": PLAINTEXT}
    _write(ws, endpoint)
    refused = _invoke(ws, leaks, "plan", "-t", "ws")
    assert refused.exit_code == 1 and "must be a secret reference" in refused.stderr
    leaks.check()


def test_debug_logs_of_a_real_process_never_show_credentials(ws: Path, tmp_path: Path) -> None:
    """``-vv`` logs the SDK's requests and responses, bodies included, in a real process."""
    leaks = Canaries()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return leaks.debug_run(ws, *args)

    plan_file = tmp_path / "plan.json"
    done = run("plan", "-t", "ws", "-o", str(plan_file))
    assert done.returncode == 0, done.stderr
    done = run("--log-format", "json", "apply", "-t", "ws", str(plan_file))
    assert done.returncode == 0, done.stderr
    assert "POST /api/2.0/serving-endpoints" in done.stderr  # the create body was logged
    done = run("plan", "-t", "ws")
    assert done.returncode == 0, done.stderr
    leaks.check()
