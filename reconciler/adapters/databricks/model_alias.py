"""Aliases of Unity Catalog models on Databricks: the wire mapping, and the writes (set, move,
delete) with the records around them: the alias inventory on the model (which project set which
alias) and the promotion and approval tags on the version. Aliases are read with their model
(``registered_model``: one GET with ``include_aliases`` reads all of them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from databricks.sdk.errors import NotFound

from reconciler.adapters.databricks.markers import holder_lock
from reconciler.adapters.databricks.model_tags import (
    alias_inventory_after,
    model_tags,
    patch_model_tags,
)
from reconciler.adapters.databricks.model_versions import (
    APPROVAL_TAG_PREFIX,
    PROMOTION_TAG_PREFIX,
    promotion_record,
    set_version_tag,
    wait_version_ready,
)
from reconciler.adapters.databricks.sdk import WorkspaceClient
from reconciler.adapters.databricks.writing import KindAdapter, desired_of, ignore_missing
from reconciler.kinds.diffing import as_int
from reconciler.model.changes import Action, Change
from reconciler.model.live import LiveAsset
from reconciler.model.resources import KindName
from reconciler.runtime import retry
from reconciler.runtime.settings import ApplySettings


def normalize_alias(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``raw`` is one alias of a model: ``{model, alias_name, version_num}`` (UC) or
    ``{model, alias, version}`` (MLflow, where the version may be a string)."""
    doc = {
        "model": raw["model"],
        "alias": raw.get("alias_name") or raw.get("alias"),
        "version": as_int(raw.get("version_num", raw.get("version"))),
    }
    if raw.get("approval"):
        doc["approval"] = str(raw["approval"])
    return doc


def mark_alias(
    client: WorkspaceClient, model: str, alias: str, project: str, *, present: bool
) -> None:
    """Add ``alias`` to (or remove it from) the project's alias inventory on ``model``."""
    if not project:
        return
    with holder_lock(f"model:{model}"):
        try:
            tags = model_tags(client, model)
        except NotFound:
            if present:
                raise
            return  # the model is gone, and its inventory with it
        key, value = alias_inventory_after(tags, project, alias, present=present)
        if tags.get(key) == value:
            return
        if value is None:
            patch_model_tags(client, model, {}, [key])
        else:
            patch_model_tags(client, model, {key: value}, [])


def apply_model_alias(
    client: WorkspaceClient, change: Change, live: LiveAsset | None, settings: ApplySettings
) -> None:
    model, _, alias = change.name.rpartition("@")
    if change.action is Action.DELETE:
        ignore_missing(
            lambda: client.registered_models.delete_alias(model, alias),
            what=f"deleting alias {change.name}",
        )
        # Unmarked only once gone: a crash in between leaves it marked, so prune retries.
        mark_alias(client, model, alias, settings.project, present=False)
        return
    doc = desired_of(change)
    if change.action is Action.ADOPT and not change.diffs:
        # Already where the manifest says: adopting writes the inventory record only.
        mark_alias(client, model, alias, settings.project, present=True)
        return
    version = int(doc["version"])
    wait_version_ready(client, model, version, address=change.address)
    # Marked before it is set: a crash in between leaves a marker naming no alias (ignored).
    mark_alias(client, model, alias, settings.project, present=True)
    retry.call(
        lambda: client.registered_models.set_alias(model, alias, version),
        what=f"setting alias {change.name} to version {version}",
    )
    approval = str(doc["approval"]) if doc.get("approval") else None
    records = {PROMOTION_TAG_PREFIX + alias: promotion_record(approval, settings)}
    if approval:
        records[APPROVAL_TAG_PREFIX + alias] = approval
    for key, value in records.items():
        set_version_tag(client, model, version, key, value)


ADAPTERS = (KindAdapter(KindName.MODEL_ALIAS, normalize_alias, apply_model_alias),)
