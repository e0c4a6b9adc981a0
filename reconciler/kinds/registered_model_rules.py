"""Registered models and their aliases: normalize, diff, dependencies."""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

from reconciler.kinds.diffing import as_int, diff_tags, tags_to_dict
from reconciler.kinds.registered_model import ModelAliasSpec
from reconciler.kinds.rules import DesiredContext, KindRules, register
from reconciler.model.changes import FieldDiff
from reconciler.model.live import ExtraRead
from reconciler.model.resources import KindName, Resource, address_of


class RegisteredModelRules(KindRules):
    kind = KindName.REGISTERED_MODEL
    delete_needs_prune = True

    def desired_doc(self, resource: Resource, ctx: DesiredContext) -> dict[str, Any]:
        doc = resource.spec.doc()
        doc.pop("aliases", None)  # aliases are model_alias assets of their own
        if "tags" in doc:
            doc["tags"] = dict(sorted(doc["tags"].items()))
        return doc

    def normalize(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": raw.get("full_name") or raw.get("name")}
        if raw.get("comment"):
            doc["comment"] = raw["comment"]
        if raw.get("owner"):
            doc["owner"] = raw["owner"]
        doc["tags"] = tags_to_dict(raw.get("tags"))
        return doc

    def diff(self, desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[FieldDiff]:
        diffs = []
        for field in ("comment", "owner"):
            if field in desired and (desired[field] or None) != (live.get(field) or None):
                diffs.append(FieldDiff(path=field, before=live.get(field), after=desired[field]))
        if "tags" in desired:
            diffs.extend(diff_tags(desired["tags"], live.get("tags") or {}, "tags"))
        return diffs

    def delete_reason(self, name: str, live: Mapping[str, Any]) -> str:
        return (
            f"deletes registered model {name} with ALL its versions (not recoverable);"
            " apply needs --allow-delete"
        )


class ModelAliasRules(KindRules):
    kind = KindName.MODEL_ALIAS

    def extra_reads(self, doc: Mapping[str, Any]) -> frozenset[ExtraRead]:
        """The approval is a tag on the version: read it only when the manifest sets one."""
        return frozenset({ExtraRead.APPROVAL}) if doc.get("approval") is not None else frozenset()

    def desired_doc(self, resource: Resource, ctx: DesiredContext) -> dict[str, Any]:
        spec = resource.spec
        assert isinstance(spec, ModelAliasSpec)
        ctx.check_version(resource, "version", spec.model, spec.version)
        return spec.doc()

    def normalize(self, raw: Mapping[str, Any]) -> dict[str, Any]:
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

    def diff(self, desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[FieldDiff]:
        """The version; and the approval when the manifest sets one and the alias already points
        at that version (the live approval is the ``reconciler.approval.<alias>`` tag of the
        version; a move records the manifest's approval on the new version anyway, so another
        version's record is not a difference of its own)."""
        want, have = as_int(desired.get("version")), as_int(live.get("version"))
        if want != have:
            return [FieldDiff(path="version", before=have, after=want)]
        approval = desired.get("approval")
        if approval is not None and str(approval) != live.get("approval"):
            return [FieldDiff(path="approval", before=live.get("approval"), after=approval)]
        return []

    def creation_diffs(self, doc: Mapping[str, Any]) -> list[FieldDiff]:
        """The address names the model and the alias already."""
        return [
            FieldDiff(path=k, before=None, after=v)
            for k, v in doc.items()
            if k not in ("model", "alias")
        ]

    def dependencies(self, name: str, doc: Mapping[str, Any], known: Set[str]) -> list[str]:
        model = address_of(KindName.REGISTERED_MODEL, str(doc.get("model", "")))
        return [model] if model in known else []

    def delete_reason(self, name: str, live: Mapping[str, Any]) -> str:
        return f"removes alias {name}; anything loading models:/{name} stops resolving"


register(RegisteredModelRules())
register(ModelAliasRules())
