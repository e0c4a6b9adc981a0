"""The MLflow calls a registered-model change needs, worked out from the planned diffs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.adapters.mlflow.promotion import own_tag
from reconciler.model.changes import Change
from reconciler.model.errors import WorkspaceError
from reconciler.model.resources import KindName, address_of


def split_alias_name(name: str) -> tuple[str, str]:
    """``model@alias`` -> (model, alias); aliases never hold ``@``, model names might."""
    model, sep, alias = name.rpartition("@")
    if not sep or not model or not alias:
        raise WorkspaceError(
            f"alias name {name!r} is not of the form model@alias",
            address=address_of(KindName.MODEL_ALIAS, name),
        )
    return model, alias


def check_model_name(name: str) -> str:
    """MLflow names are free-form except for ``/`` and ``:`` (and not blank)."""
    if not name.strip() or "/" in name or ":" in name:
        raise WorkspaceError(
            f"MLflow cannot hold a registered model named {name!r}: names may not be blank "
            "or contain '/' or ':'",
            address=address_of(KindName.REGISTERED_MODEL, name),
            hint="rename the model in the manifest",
        )
    return name


def no_owner(address: str) -> WorkspaceError:
    return WorkspaceError(
        "MLflow registries have no model owner",
        address=address,
        hint="remove `owner` from this model for mlflow targets",
    )


class ModelOps:
    """The MLflow calls one registered-model update needs."""

    def __init__(self) -> None:
        self.comment: str | None = None
        self.set_tags: dict[str, str] = {}
        self.delete_tags: set[str] = set()

    def tags(self, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> None:
        before, after = before or {}, after or {}
        for key, value in after.items():
            if before.get(key) != value:
                self.set_tags[str(key)] = str(value)
        self.delete_tags.update(str(k) for k in before if k not in after)
        # Ownership and records are the tool's own: a manifest never sets or removes them.
        self.delete_tags = {k for k in self.delete_tags if not own_tag(k)}
        self.set_tags = {k: v for k, v in self.set_tags.items() if not own_tag(k)}


def ops_from_diffs(change: Change) -> ModelOps:
    """Only the planned field diffs are written, so ignored fields stay as they are."""
    ops = ModelOps()
    for diff in change.diffs:
        if diff.path == "comment":
            ops.comment = "" if diff.after is None else str(diff.after)
        elif diff.path == "tags":
            ops.tags(diff.before, diff.after)
        elif diff.path.startswith("tags."):
            key = diff.path.removeprefix("tags.")
            before = {} if diff.before is None else {key: diff.before}
            after = {} if diff.after is None else {key: diff.after}
            ops.tags(before, after)
        elif diff.path == "owner":
            raise no_owner(change.address)
        else:
            raise WorkspaceError(
                f"cannot change field {diff.path!r} of an MLflow registered model in place",
                address=change.address,
            )
    return ops


def ops_to_converge(live: Mapping[str, Any], desired: Mapping[str, Any]) -> ModelOps:
    """Fallback without diffs: converge the fields the desired doc sets."""
    ops = ModelOps()
    if "comment" in desired and desired.get("comment") != live.get("comment"):
        ops.comment = str(desired.get("comment") or "")
    if "tags" in desired:
        ops.tags(live.get("tags"), desired.get("tags"))
    return ops
