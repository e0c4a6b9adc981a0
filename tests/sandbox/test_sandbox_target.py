"""``type: sandbox`` targets take ``rate_limit`` and ``latency_ms``; the environment wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.adapters import open_workspace
from reconciler.adapters.databricks.workspace import DatabricksWorkspace
from reconciler.manifest import load_project
from reconciler.model.errors import ManifestError

PROJECT = """\
project: demo
targets:
  sandbox:
    type: sandbox
{settings}
"""


def project_with(tmp_path: Path, settings: str) -> Path:
    (tmp_path / "reconciler.yaml").write_text(PROJECT.format(settings=settings))
    return tmp_path


def live_faults(root: Path) -> dict[str, object]:
    with open_workspace(load_project(root), "sandbox") as workspace:
        assert isinstance(workspace, DatabricksWorkspace)
        doc = workspace.client.api_client.do("GET", "/sandbox/faults")
    assert isinstance(doc, dict)
    return doc


def test_sandbox_target_rate_limit_and_latency_reach_the_embedded_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RECONCILER_SANDBOX_RATE_LIMIT", raising=False)
    monkeypatch.delenv("RECONCILER_SANDBOX_LATENCY_MS", raising=False)
    root = project_with(tmp_path, "    rate_limit: 30\n    latency_ms: 5")
    faults = live_faults(root)
    assert (faults["rate_limit"], faults["latency_ms"]) == (30, 5)


def test_the_environment_overrides_the_target_rate_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILER_SANDBOX_RATE_LIMIT", "7")
    root = project_with(tmp_path, "    rate_limit: 30")
    assert live_faults(root)["rate_limit"] == 7
    monkeypatch.setenv("RECONCILER_SANDBOX_RATE_LIMIT", "none")
    assert live_faults(root)["rate_limit"] is None


def test_a_bad_environment_rate_limit_names_the_target_and_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconciler.model.errors import WorkspaceError

    monkeypatch.setenv("RECONCILER_SANDBOX_RATE_LIMIT", "-2")
    with pytest.raises(WorkspaceError, match=r"target 'sandbox'.*RECONCILER_SANDBOX_RATE_LIMIT"):
        live_faults(project_with(tmp_path, ""))


@pytest.mark.parametrize(
    ("settings", "line", "words"),
    [
        ("    rate_limit: 0", 5, "greater than 0"),
        ("    rate_limit: -1", 5, "greater than 0"),
        ("    rate_limit: fast", 5, "number"),
        ("    latency_ms: -5", 5, "greater than or equal to 0"),
        ("    latency_ms: 100000", 5, "less than or equal to 60000"),
    ],
)
def test_sandbox_target_settings_are_validated(
    tmp_path: Path, settings: str, line: int, words: str
) -> None:
    with pytest.raises(ManifestError, match=words) as info:
        load_project(project_with(tmp_path, settings))
    assert info.value.location is not None and info.value.location.line == line


def test_rate_limit_on_a_databricks_target_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "reconciler.yaml").write_text(
        "project: demo\ntargets:\n  prod:\n    type: databricks\n    rate_limit: 10\n"
    )
    with pytest.raises(ManifestError, match="rate_limit applies to sandbox targets only") as info:
        load_project(tmp_path)
    assert info.value.location is not None and info.value.location.line == 5
