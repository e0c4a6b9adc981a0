"""The same adapter with ``tracking_uri: databricks-uc``, against the sandbox workspace.

MLflow's default Unity Catalog store speaks ``/api/2.0/mlflow/unity-catalog/...`` (the sandbox
serves those routes), with versions as strings and tags as lists: this shows approval records
are written as model version tags on Databricks too.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from databricks.sdk import WorkspaceClient

from reconciler.adapters.mlflow import MlflowWorkspace
from reconciler.model.changes import Action, Change
from reconciler.model.live import ReadRequest
from reconciler.model.resources import KindName
from reconciler.sandbox import SandboxServer

MODEL = "main.support.intent"


def test_alias_and_approval_on_databricks_uc(
    sandbox: SandboxServer,
    sdk: WorkspaceClient,
    register_ready: Callable[[str], int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", sandbox.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", "sandbox-token")
    register_ready(MODEL)
    register_ready(MODEL)
    ws = MlflowWorkspace("databricks-uc", project="support")
    assert (ws.tracking_uri, ws.registry_uri) == ("databricks", "databricks-uc")

    desired = {"model": MODEL, "alias": "champion", "version": 2, "approval": "CHG-2187"}
    name = f"{MODEL}@champion"
    ws.apply_change(
        Change(
            address=f"model_alias.{name}",
            kind=KindName.MODEL_ALIAS,
            name=name,
            action=Action.CREATE,
            desired=desired,
        ),
        None,
    )

    aliases = sdk.registered_models.get(MODEL, include_aliases=True).aliases or []
    assert [(a.alias_name, a.version_num) for a in aliases] == [("champion", 2)]
    state = ws.read(
        ReadRequest(
            assets=[(KindName.MODEL_ALIAS, name), (KindName.MODEL_ALIAS, f"{MODEL}@missing")],
            versions=[(MODEL, 2), (MODEL, 9)],
        )
    )
    assert state.assets[f"model_alias.{name}"].doc == desired  # version "2" read back as 2
    assert f"model_alias.{MODEL}@missing" not in state.assets
    assert set(state.versions) == {(MODEL, 2)}
