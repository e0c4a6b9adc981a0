"""MlflowWorkspace against a real sqlite registry: reads in the spec shape, writes that converge."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient

from reconciler.adapters.databricks.kinds import normalize
from reconciler.adapters.mlflow import MlflowWorkspace, resolve_uris, sqlite_path
from reconciler.adapters.mlflow.uris import display_uri
from reconciler.model.changes import Action, Change, FieldDiff
from reconciler.model.errors import WorkspaceError
from reconciler.model.live import OWNER_TAG, ReadRequest
from reconciler.model.resources import KindName, address_of

MODEL = "support.intent classifier"  # free-form: dots and spaces are fine in MLflow
Register = Callable[[str, int], list[int]]


def change(
    kind: KindName,
    name: str,
    action: Action,
    desired: dict[str, Any] | None = None,
    diffs: tuple[FieldDiff, ...] = (),
) -> Change:
    return Change(
        address=address_of(kind, name),
        kind=kind,
        name=name,
        action=action,
        desired=desired,
        diffs=diffs,
    )


def alias_change(action: Action, alias: str, version: int, approval: str | None = None) -> Change:
    desired: dict[str, Any] = {"model": MODEL, "alias": alias, "version": version}
    if approval:
        desired["approval"] = approval
    return change(KindName.MODEL_ALIAS, f"{MODEL}@{alias}", action, desired)


@pytest.fixture
def ws(registry_uri: str) -> MlflowWorkspace:
    return MlflowWorkspace(registry_uri, project="support")


def read(ws: MlflowWorkspace, *assets: tuple[KindName, str], **kwargs: Any) -> dict[str, Any]:
    return ws.read(ReadRequest(assets=assets, **kwargs)).assets


def test_create_model_marks_it_owned_and_reads_back_in_spec_shape(
    ws: MlflowWorkspace, mlflow_client: MlflowClient
) -> None:
    desired = {"name": MODEL, "comment": "Routes tickets", "tags": {"team": "support"}}
    ws.apply_change(change(KindName.REGISTERED_MODEL, MODEL, Action.CREATE, desired), None)

    assert mlflow_client.get_registered_model(MODEL).tags[OWNER_TAG] == "support"
    state = ws.read(ReadRequest(assets=[(KindName.REGISTERED_MODEL, MODEL)]))
    asset = state.assets[address_of(KindName.REGISTERED_MODEL, MODEL)]
    assert asset.doc == desired
    assert asset.owner == "support"
    assert asset.raw["tags"][OWNER_TAG] == "support"
    assert state.api_calls == 1


def test_update_writes_only_the_planned_diffs(
    ws: MlflowWorkspace, mlflow_client: MlflowClient
) -> None:
    mlflow_client.create_registered_model(
        MODEL, tags={"team": "a", "old": "x", "kept": "by-someone-else"}, description="before"
    )
    diffs = (
        FieldDiff(path="comment", before="before", after="after"),
        FieldDiff(path="tags.team", before="a", after="b"),
        FieldDiff(path="tags.old", before="x", after=None),
        FieldDiff(path="tags.new", before=None, after="n"),
    )
    desired = {"name": MODEL, "comment": "after", "tags": {"team": "b", "new": "n"}}
    ws.apply_change(change(KindName.REGISTERED_MODEL, MODEL, Action.UPDATE, desired, diffs), None)

    model = mlflow_client.get_registered_model(MODEL)
    assert model.description == "after"
    assert model.tags == {"team": "b", "new": "n", "kept": "by-someone-else"}


def test_update_of_the_whole_tag_map_and_clearing_the_comment(
    ws: MlflowWorkspace, mlflow_client: MlflowClient
) -> None:
    mlflow_client.create_registered_model(
        MODEL, tags={"a": "1", "b": "2", OWNER_TAG: "support"}, description="words"
    )
    diffs = (
        FieldDiff(path="comment", before="words", after=None),
        FieldDiff(path="tags", before={"a": "1", "b": "2"}, after={"a": "1", "c": "3"}),
    )
    ws.apply_change(change(KindName.REGISTERED_MODEL, MODEL, Action.UPDATE, {}, diffs), None)

    doc = read(ws, (KindName.REGISTERED_MODEL, MODEL))[f"registered_model.{MODEL}"].doc
    assert doc == {"name": MODEL, "tags": {"a": "1", "c": "3"}}
    assert mlflow_client.get_registered_model(MODEL).tags[OWNER_TAG] == "support"


def test_owner_is_not_an_mlflow_field(ws: MlflowWorkspace, mlflow_client: MlflowClient) -> None:
    mlflow_client.create_registered_model(MODEL)
    diffs = (FieldDiff(path="owner", before=None, after="alice"),)
    with pytest.raises(WorkspaceError, match="no model owner") as caught:
        ws.apply_change(change(KindName.REGISTERED_MODEL, MODEL, Action.UPDATE, {}, diffs), None)
    assert caught.value.address == f"registered_model.{MODEL}"
    with pytest.raises(WorkspaceError, match="no model owner"):
        desired = {"name": "new", "owner": "alice"}
        ws.apply_change(change(KindName.REGISTERED_MODEL, "new", Action.CREATE, desired), None)
    assert not mlflow_client.search_registered_models(filter_string="name = 'new'")


def test_alias_set_with_approval_leaves_an_audit_trail(
    ws: MlflowWorkspace, mlflow_client: MlflowClient, register_versions: Register
) -> None:
    register_versions(MODEL, 2)
    ws.apply_change(alias_change(Action.CREATE, "champion", 2, "CHG-2187"), None)

    assert mlflow_client.get_registered_model(MODEL).aliases == {"champion": 2}
    tags = mlflow_client.get_model_version(MODEL, "2").tags
    assert tags["reconciler.approval.champion"] == "CHG-2187"
    assert "(project support) approval CHG-2187" in tags["reconciler.promoted.champion"]

    assets = read(ws, (KindName.MODEL_ALIAS, f"{MODEL}@champion"))
    alias = assets[f"model_alias.{MODEL}@champion"]
    assert alias.doc == {"model": MODEL, "alias": "champion", "version": 2, "approval": "CHG-2187"}
    assert isinstance(alias.doc["version"], int)


def test_raw_and_doc_agree_with_the_planner_normalization(
    ws: MlflowWorkspace, mlflow_client: MlflowClient, register_versions: Register
) -> None:
    register_versions(MODEL, 1)
    mlflow_client.update_registered_model(MODEL, description="d")
    mlflow_client.set_registered_model_tag(MODEL, "team", "t")
    ws.apply_change(alias_change(Action.CREATE, "champion", 1, "CHG-7"), None)
    assets = read(
        ws, (KindName.REGISTERED_MODEL, MODEL), (KindName.MODEL_ALIAS, f"{MODEL}@champion")
    )
    assert len(assets) == 2
    for asset in assets.values():
        assert normalize(asset.kind, asset.raw) == asset.doc


def test_alias_moved_behind_our_back_reads_as_the_new_version(
    ws: MlflowWorkspace, mlflow_client: MlflowClient, register_versions: Register
) -> None:
    register_versions(MODEL, 3)
    ws.apply_change(alias_change(Action.CREATE, "champion", 2, "CHG-1"), None)
    mlflow_client.set_registered_model_alias(MODEL, "champion", "3")

    doc = read(ws, (KindName.MODEL_ALIAS, f"{MODEL}@champion"))[f"model_alias.{MODEL}@champion"].doc
    assert doc == {"model": MODEL, "alias": "champion", "version": 3}

    ws.apply_change(alias_change(Action.UPDATE, "champion", 2, "CHG-1"), None)
    assert mlflow_client.get_registered_model(MODEL).aliases == {"champion": 2}


def test_missing_alias_model_and_version_read_as_absent(
    ws: MlflowWorkspace, register_versions: Register
) -> None:
    register_versions(MODEL, 1)
    state = ws.read(
        ReadRequest(
            assets=[
                (KindName.MODEL_ALIAS, f"{MODEL}@champion"),
                (KindName.MODEL_ALIAS, "nope@champion"),
                (KindName.REGISTERED_MODEL, "nope"),
            ],
            versions=[(MODEL, 1), (MODEL, 9), ("nope", 1)],
        )
    )
    assert state.assets == {}
    assert set(state.versions) == {(MODEL, 1)}
    assert state.versions[(MODEL, 1)].status == "READY"


def test_alias_to_a_missing_version_fails_naming_the_asset(
    ws: MlflowWorkspace, mlflow_client: MlflowClient, register_versions: Register
) -> None:
    register_versions(MODEL, 1)
    with pytest.raises(WorkspaceError, match=r"version 7 .* does not exist") as caught:
        ws.apply_change(alias_change(Action.CREATE, "champion", 7), None)
    assert caught.value.address == f"model_alias.{MODEL}@champion"
    assert mlflow_client.get_registered_model(MODEL).aliases == {}


def test_alias_to_a_version_not_ready_fails(
    ws: MlflowWorkspace, registry_uri: str, register_versions: Register
) -> None:
    register_versions(MODEL, 1)
    path = sqlite_path(registry_uri)
    assert path is not None
    with sqlite3.connect(path) as db:  # local registries are READY at once; fake a slow upload
        db.execute("UPDATE model_versions SET status = 'PENDING_REGISTRATION'")
    with pytest.raises(WorkspaceError, match="PENDING_REGISTRATION, not READY"):
        ws.apply_change(alias_change(Action.CREATE, "champion", 1), None)


def test_owned_listing_for_prune_finds_our_models_and_their_aliases(
    ws: MlflowWorkspace, mlflow_client: MlflowClient, register_versions: Register
) -> None:
    ws.apply_change(
        change(KindName.REGISTERED_MODEL, "ours", Action.CREATE, {"name": "ours"}), None
    )
    mlflow_client.create_model_version("ours", source="file:///m/ours")
    mlflow_client.set_registered_model_alias("ours", "champion", "1")
    register_versions("theirs", 1)
    mlflow_client.set_registered_model_alias("theirs", "champion", "1")
    mlflow_client.create_registered_model("other-project", tags={OWNER_TAG: "someone"})

    state = ws.read(
        ReadRequest(
            owned_by="support",
            owned_kinds=[KindName.REGISTERED_MODEL, KindName.MODEL_ALIAS],
        )
    )
    assert sorted(state.assets) == ["model_alias.ours@champion", "registered_model.ours"]
    assert {a.owner for a in state.assets.values()} == {"support"}
    # import lists everything, owned or not; aliases come in the raw model
    assert ws.list_names(KindName.REGISTERED_MODEL) == ["other-project", "ours", "theirs"]
    assert state.assets["registered_model.ours"].raw["aliases"] == [
        {"alias_name": "champion", "version_num": 1}
    ]


def test_delete_alias_and_owned_model_but_never_an_unowned_one(
    ws: MlflowWorkspace, mlflow_client: MlflowClient, register_versions: Register
) -> None:
    register_versions(MODEL, 1)
    ws.apply_change(alias_change(Action.CREATE, "champion", 1), None)
    ws.apply_change(change(KindName.MODEL_ALIAS, f"{MODEL}@champion", Action.DELETE), None)
    assert mlflow_client.get_registered_model(MODEL).aliases == {}

    live = read(ws, (KindName.REGISTERED_MODEL, MODEL))[f"registered_model.{MODEL}"]
    with pytest.raises(WorkspaceError, match="not marked as owned"):
        ws.apply_change(change(KindName.REGISTERED_MODEL, MODEL, Action.DELETE), live)

    ws.apply_change(
        change(KindName.REGISTERED_MODEL, "mine", Action.CREATE, {"name": "mine"}), None
    )
    live = read(ws, (KindName.REGISTERED_MODEL, "mine"))["registered_model.mine"]
    ws.apply_change(change(KindName.REGISTERED_MODEL, "mine", Action.DELETE), live)
    assert read(ws, (KindName.REGISTERED_MODEL, "mine")) == {}
    # Pruning a model took its aliases along: deleting one afterwards is already done.
    ws.apply_change(change(KindName.MODEL_ALIAS, "mine@champion", Action.DELETE), None)


def test_retried_create_converges_on_our_own_model(
    ws: MlflowWorkspace, mlflow_client: MlflowClient
) -> None:
    mlflow_client.create_registered_model(MODEL, tags={OWNER_TAG: "support"})
    desired = {"name": MODEL, "comment": "c", "tags": {"t": "v"}}
    ws.apply_change(change(KindName.REGISTERED_MODEL, MODEL, Action.CREATE, desired), None)
    assert read(ws, (KindName.REGISTERED_MODEL, MODEL))[f"registered_model.{MODEL}"].doc == desired

    mlflow_client.create_registered_model("foreign")
    with pytest.raises(WorkspaceError, match="already exists and is not marked as owned"):
        ws.apply_change(
            change(KindName.REGISTERED_MODEL, "foreign", Action.CREATE, {"name": "foreign"}), None
        )


def test_kinds_an_mlflow_registry_cannot_hold_and_names_it_cannot_store(
    ws: MlflowWorkspace,
) -> None:
    assert ws.capabilities == {KindName.REGISTERED_MODEL, KindName.MODEL_ALIAS}
    with pytest.raises(WorkspaceError, match="cannot hold serving_endpoint"):
        ws.apply_change(change(KindName.SERVING_ENDPOINT, "ep", Action.CREATE, {}), None)
    with pytest.raises(WorkspaceError, match="may not be blank or contain '/'"):
        ws.apply_change(change(KindName.REGISTERED_MODEL, "a/b", Action.CREATE, {}), None)


def test_uri_resolution(tmp_path: Path) -> None:
    assert resolve_uris("databricks-uc") == ("databricks", "databricks-uc")
    assert resolve_uris("databricks-uc://PROD") == ("databricks://PROD", "databricks-uc://PROD")
    assert resolve_uris("http://mlflow:5000") == ("http://mlflow:5000",) * 2
    tracking, registry = resolve_uris(None, root=tmp_path)
    assert tracking == registry == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    assert resolve_uris("sqlite:////abs/x.db", root=tmp_path)[0] == "sqlite:////abs/x.db"
    assert resolve_uris("http://t", registry_uri="databricks-uc") == ("http://t", "databricks-uc")
    assert display_uri("https://me:s3cret@mlflow:443/x?token=t") == "https://***@mlflow:443/x"
    assert display_uri("sqlite:////abs/x.db") == "sqlite:////abs/x.db"


def test_a_registry_never_created_reads_empty_until_apply_creates_it(tmp_path: Path) -> None:
    ws = MlflowWorkspace("sqlite:///.reconciler/mlflow.db", root=tmp_path, project="support")
    db = tmp_path / ".reconciler" / "mlflow.db"
    assert sqlite_path(ws.registry_uri) == db.resolve()
    state = ws.read(ReadRequest(assets=[(KindName.REGISTERED_MODEL, MODEL)], owned_by="support"))
    assert state.assets == {}
    assert not db.parent.exists()  # plan never writes, not even an empty database

    ws.apply_change(change(KindName.REGISTERED_MODEL, MODEL, Action.CREATE, {"name": MODEL}), None)
    assert db.is_file()
    created = read(ws, (KindName.REGISTERED_MODEL, MODEL))[f"registered_model.{MODEL}"]
    assert created.owner == "support"


def test_an_unreachable_server_fails_cleanly_without_leaking_credentials() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ws = MlflowWorkspace(
        f"http://alice:s3cret@127.0.0.1:{port}", project="support", connect_budget=0
    )
    with pytest.raises(WorkspaceError, match="cannot reach the MLflow tracking server") as caught:
        ws.read(ReadRequest(assets=[(KindName.REGISTERED_MODEL, MODEL)]))
    shown = f"{caught.value} {caught.value.hint}"
    assert "s3cret" not in shown and "alice" not in shown
    assert f"http://***@127.0.0.1:{port}" in shown
