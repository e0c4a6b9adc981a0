"""Tags on Unity Catalog models and model versions, which the SDK has no call for.

The routes are the ones MLflow's native UC client uses, with the body
``{"changes": {"add_tags": [{key, value}], "remove": [key]}}``:

* ``PATCH /api/2.1/unity-catalog/securable-tags/FUNCTION/{full_name}``: model tags;
* ``PATCH /api/2.1/unity-catalog/subentity-tags/FUNCTION/{full_name}/{version}``: version tags.

GET on both paths (a sandbox addition) and the PATCH answers are ``{"tags": [{key, value}]}``
sorted by key. GET of a model or a version also carries ``tags``, as Unity Catalog's own
responses do (the SDK's dataclasses drop the field; read it with ``client.api_client.do``).
"""

from __future__ import annotations

from reconciler.sandbox.api import Request, Router, invalid, sorted_tags
from reconciler.sandbox.store import Doc
from reconciler.sandbox.unity_catalog import (
    MODELS,
    VERSIONS,
    load_model,
    load_version,
    version_key,
)

router = Router()
_MODEL_PATH = "/api/2.1/unity-catalog/securable-tags/{type}/{full_name}"
_VERSION_PATH = "/api/2.1/unity-catalog/subentity-tags/{type}/{full_name}/{version}"


def _model(req: Request) -> Doc:
    if req.params["type"].upper() != "FUNCTION":
        raise invalid(
            f"Securable type {req.params['type']!r} is not supported by the sandbox;"
            " models use FUNCTION."
        )
    return load_model(req, req.params["full_name"])


def _version(req: Request) -> tuple[Doc, Doc]:
    number = req.param_int("version")
    model = _model(req)
    return model, load_version(req, model["full_name"], number)


def _apply_changes(req: Request, current: dict[str, str | None]) -> dict[str, str | None]:
    changes = req.body.get("changes")
    if not isinstance(changes, dict):
        raise invalid("Body must be {'changes': {'add_tags': [...], 'remove': [...]}}.")
    tags = dict(current)
    removes = changes.get("remove") or []
    if not isinstance(removes, list):
        raise invalid("changes.remove must be a list of keys.")
    for key in removes:
        tags.pop(str(key), None)
    adds = changes.get("add_tags") or []
    if not isinstance(adds, list):
        raise invalid("changes.add_tags must be a list of {key, value}.")
    for tag in adds:
        if not isinstance(tag, dict) or not tag.get("key"):
            raise invalid("Every tag needs a key.")
        tags[str(tag["key"])] = tag.get("value")
    return tags


@router.add("GET", _MODEL_PATH, "securable_tags.get")
def get_model_tags(req: Request) -> Doc:
    return {"tags": sorted_tags(_model(req).get("_tags", {}))}


@router.add("PATCH", _MODEL_PATH, "securable_tags.update")
def update_model_tags(req: Request) -> Doc:
    model = _model(req)
    model["_tags"] = _apply_changes(req, model.get("_tags", {}))
    model["updated_at"] = req.now_ms
    req.tx.put(MODELS, model["full_name"], model)
    return {"tags": sorted_tags(model["_tags"])}


@router.add("GET", _VERSION_PATH, "subentity_tags.get")
def get_version_tags(req: Request) -> Doc:
    _, version = _version(req)
    return {"tags": sorted_tags(version.get("_tags", {}))}


@router.add("PATCH", _VERSION_PATH, "subentity_tags.update")
def update_version_tags(req: Request) -> Doc:
    model, version = _version(req)
    version["_tags"] = _apply_changes(req, version.get("_tags", {}))
    version["updated_at"] = req.now_ms
    req.tx.put(VERSIONS, version_key(model["full_name"], version["version"]), version)
    return {"tags": sorted_tags(version["_tags"])}
