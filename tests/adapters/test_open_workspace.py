"""open_workspace: the sandbox target runs in-process on the project's state and stops after."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from reconciler.adapters import open_workspace, sandbox_state_dir
from reconciler.adapters.databricks.workspace import DatabricksWorkspace
from reconciler.manifest import load_project
from reconciler.model.errors import WorkspaceError
from reconciler.model.live import ReadRequest
from reconciler.model.resources import KindName


def _project(root: Path, target: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "reconciler.yaml").write_text(
        f"project: p\ndefault_target: t\ntargets:\n  t: {target}\n"
    )
    return root


def test_sandbox_target_uses_its_state_dir_and_stops(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path / "p", "{type: sandbox, state_dir: st}"))
    assert sandbox_state_dir(project, project.targets["t"]) == project.root / "st"
    with open_workspace(project, "t") as ws:
        assert isinstance(ws, DatabricksWorkspace)
        live = ws.read(ReadRequest(assets=[(KindName.SERVING_ENDPOINT, "databricks-bge-large-en")]))
        assert "serving_endpoint.databricks-bge-large-en" in live.assets
        url = ws.client.config.host
    assert (project.root / "st").is_dir()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/sandbox/health", timeout=2)


def test_default_sandbox_state_is_under_dot_reconciler(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path / "p", "{type: sandbox}"))
    expected = project.root / ".reconciler" / "sandbox"
    assert sandbox_state_dir(project, project.targets["t"]) == expected


def test_databricks_target_without_credentials_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    project = load_project(_project(tmp_path / "p", "{type: databricks, profile: NOPE}"))
    with (
        pytest.raises(
            WorkspaceError,
            match=r"cannot configure a Databricks client for target .t. \(profile NOPE\)",
        ),
        open_workspace(project, "t"),
    ):
        pass
