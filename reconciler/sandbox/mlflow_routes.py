"""The MLflow legacy Unity Catalog routes (``/api/2.0/mlflow/unity-catalog/...``), reduced to
what carries information the 2.1 API lacks: model version tags (approval records), plus
aliases and model tags so a default ``MlflowClient(registry_uri="databricks-uc")`` works.
They read and write the same models and versions as the 2.1 routes.
"""

from __future__ import annotations

from reconciler.sandbox.api import Request, Router, invalid, not_found, sorted_tags
from reconciler.sandbox.store import Doc
from reconciler.sandbox.unity_catalog import (
    MODELS,
    VERSIONS,
    check_alias,
    load_model,
    load_version,
    new_model,
    version_key,
)

PREFIX = "/api/2.0/mlflow/unity-catalog"
router = Router()


def _arg(req: Request, name: str) -> str:
    value = req.body.get(name)
    if value is None:
        value = req.q(name)
    if value is None or value == "":
        raise invalid(f"Missing value for required parameter '{name}'.")
    return str(value)


def _int_arg(req: Request, name: str) -> int:
    value = _arg(req, name)
    if not value.isdigit():
        raise invalid(f"Parameter '{name}' must be an integer, got {value!r}.")
    return int(value)


def _model_version(model: Doc, version: Doc) -> Doc:
    aliases = [
        {"alias": a, "version": str(v)}
        for a, v in sorted(model.get("_aliases", {}).items())
        if v == version["version"]
    ]
    out: Doc = {
        "name": model["full_name"],
        "version": str(version["version"]),
        "creation_timestamp": version["created_at"],
        "last_updated_timestamp": version["updated_at"],
        "user_id": version["created_by"],
        "source": version["source"],
        "status": version["status"],
        "storage_location": version["storage_location"],
        "aliases": aliases,
        "tags": sorted_tags(version.get("_tags", {})),
    }
    for src, dst in (("comment", "description"), ("run_id", "run_id")):
        if version.get(src) is not None:
            out[dst] = version[src]
    return out


@router.add("GET", PREFIX + "/registered-models/get", "mlflow.get_registered_model")
def get_registered_model(req: Request) -> Doc:
    return get_registered_model_doc(load_model(req, _arg(req, "name")))


def get_registered_model_doc(model: Doc) -> Doc:
    out: Doc = {
        "name": model["full_name"],
        "creation_timestamp": model["created_at"],
        "last_updated_timestamp": model["updated_at"],
        "user_id": model["created_by"],
        "aliases": [
            {"alias": a, "version": str(v)} for a, v in sorted(model.get("_aliases", {}).items())
        ],
        "tags": sorted_tags(model.get("_tags", {})),
    }
    if model.get("comment") is not None:
        out["description"] = model["comment"]
    return {"registered_model": out}


@router.add("POST", PREFIX + "/registered-models/create", "mlflow.create_registered_model")
def create_registered_model(req: Request) -> Doc:
    """MLflow's create takes the model's tags, so a model is never without them."""
    tags = req.body.get("tags") or []
    if not all(t.get("key") for t in tags):
        raise invalid("Every tag needs a key.")
    model = new_model(
        req,
        _arg(req, "name"),
        comment=req.str_field("description"),
        tags={str(t["key"]): str(t.get("value") or "") for t in tags},
    )
    return get_registered_model_doc(model)


@router.add("POST", PREFIX + "/registered-models/set-tag", "mlflow.set_registered_model_tag")
def set_model_tag(req: Request) -> Doc:
    model = load_model(req, _arg(req, "name"))
    model.setdefault("_tags", {})[_arg(req, "key")] = str(req.body.get("value", ""))
    req.tx.put(MODELS, model["full_name"], model)
    return {}


@router.add(
    "DELETE", PREFIX + "/registered-models/delete-tag", "mlflow.delete_registered_model_tag"
)
def delete_model_tag(req: Request) -> Doc:
    model = load_model(req, _arg(req, "name"))
    model.setdefault("_tags", {}).pop(_arg(req, "key"), None)
    req.tx.put(MODELS, model["full_name"], model)
    return {}


@router.add("POST", PREFIX + "/registered-models/alias", "mlflow.set_registered_model_alias")
def set_alias(req: Request) -> Doc:
    model = load_model(req, _arg(req, "name"))
    alias = check_alias(_arg(req, "alias"))
    number = _int_arg(req, "version")
    load_version(req, model["full_name"], number)
    model["_aliases"][alias] = number
    req.tx.put(MODELS, model["full_name"], model)
    return {}


@router.add("DELETE", PREFIX + "/registered-models/alias", "mlflow.delete_registered_model_alias")
def delete_alias(req: Request) -> Doc:
    model = load_model(req, _arg(req, "name"))
    model["_aliases"].pop(_arg(req, "alias"), None)
    req.tx.put(MODELS, model["full_name"], model)
    return {}


@router.add("GET", PREFIX + "/registered-models/alias", "mlflow.get_model_version_by_alias")
def get_by_alias(req: Request) -> Doc:
    model = load_model(req, _arg(req, "name"))
    alias = _arg(req, "alias")
    number = model["_aliases"].get(alias)
    if number is None:
        raise not_found(f"Alias {alias} does not exist for model {model['full_name']}.")
    return {"model_version": _model_version(model, load_version(req, model["full_name"], number))}


@router.add("GET", PREFIX + "/model-versions/get", "mlflow.get_model_version")
def get_version(req: Request) -> Doc:
    model = load_model(req, _arg(req, "name"))
    version = load_version(req, model["full_name"], _int_arg(req, "version"))
    return {"model_version": _model_version(model, version)}


@router.add("POST", PREFIX + "/model-versions/set-tag", "mlflow.set_model_version_tag")
def set_version_tag(req: Request) -> Doc:
    model = load_model(req, _arg(req, "name"))
    version = load_version(req, model["full_name"], _int_arg(req, "version"))
    version.setdefault("_tags", {})[_arg(req, "key")] = str(req.body.get("value", ""))
    req.tx.put(VERSIONS, version_key(model["full_name"], version["version"]), version)
    return {}


@router.add("DELETE", PREFIX + "/model-versions/delete-tag", "mlflow.delete_model_version_tag")
def delete_version_tag(req: Request) -> Doc:
    model = load_model(req, _arg(req, "name"))
    version = load_version(req, model["full_name"], _int_arg(req, "version"))
    version.setdefault("_tags", {}).pop(_arg(req, "key"), None)
    req.tx.put(VERSIONS, version_key(model["full_name"], version["version"]), version)
    return {}
