"""MLflow registry entities folded into the spec shape the planner compares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.adapters.mlflow.promotion import approval_tag, own_tag
from reconciler.model.live import OWNER_TAG, LiveAsset
from reconciler.model.resources import KindName

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion, RegisteredModel


def int_version(value: Any) -> int:
    """Alias versions are int on sqlite, str on the file store and the UC REST stores."""
    return int(value)


def model_asset(model: RegisteredModel) -> LiveAsset:
    """Doc ``{name, comment, tags}``; owner from our tag; MLflow has no model owner."""
    tags = dict(model.tags or {})
    owner = tags.get(OWNER_TAG)
    # Tags the tool writes itself (ownership, records) are never compared.
    theirs = {k: v for k, v in sorted(tags.items()) if not own_tag(k)}
    doc: dict[str, Any] = {"name": model.name, "tags": theirs}
    if model.description:
        doc["comment"] = model.description
    raw = {
        "name": model.name,
        "comment": model.description or None,  # the key the spec uses
        "description": model.description,
        "tags": dict(model.tags or {}),
        # The Unity Catalog shape, as every adapter's raw registered model has it.
        "aliases": [
            {"alias_name": a, "version_num": int_version(v)}
            for a, v in sorted((model.aliases or {}).items())
        ],
        "creation_timestamp": model.creation_timestamp,
        "last_updated_timestamp": model.last_updated_timestamp,
    }
    return LiveAsset(KindName.REGISTERED_MODEL, model.name, doc, raw, owner)


def alias_asset(
    model: RegisteredModel, alias: str, number: int, version: ModelVersion | None
) -> LiveAsset:
    """Doc ``{model, alias, version[, approval]}``: the approval is the version's tag."""
    doc: dict[str, Any] = {"model": model.name, "alias": alias, "version": number}
    version_tags = dict(version.tags or {}) if version is not None else {}
    if approval := version_tags.get(approval_tag(alias)):
        doc["approval"] = approval
    raw = {
        "model": model.name,
        "alias": alias,
        "version": number,
        "version_status": str(version.status) if version is not None else None,
        "version_tags": version_tags,
        "approval": doc.get("approval"),
    }
    owner = (model.tags or {}).get(OWNER_TAG)
    return LiveAsset(KindName.MODEL_ALIAS, f"{model.name}@{alias}", doc, raw, owner)
