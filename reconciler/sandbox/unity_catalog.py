"""Unity Catalog registered models, versions and aliases: ``/api/2.1/unity-catalog/models``.

Like Unity Catalog, names are case-insensitive and stored lower-case; the backend fills
``owner``, ``full_name``, ``metastore_id``, ``storage_location`` and the audit fields, and
``storage_location`` never changes after creation. Versions are created the
way MLflow's native UC client does it: ``POST .../models/versions`` (PENDING_REGISTRATION), then
``PATCH .../versions/{v}/finalize`` (READY).
"""

from __future__ import annotations

import re
import uuid

from reconciler.sandbox.api import (
    Request,
    Router,
    already_exists,
    invalid,
    invalid_state,
    not_found,
    page,
    public,
    sorted_tags,
)
from reconciler.sandbox.config import SANDBOX_USER
from reconciler.sandbox.store import Doc, Tx

MODELS = "uc_models"
VERSIONS = "uc_model_versions"
METASTORE_ID = "5a4d6b1e-0000-4000-8000-5a4db0c5e000"
STATUSES = {"PENDING_REGISTRATION", "READY", "FAILED_REGISTRATION"}
NAME_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
ALIAS = re.compile(r"^[\w\-]{1,255}$")
SERVES = ("registered_model", "model_alias")
"""The asset kinds (address prefixes) these routes serve."""
router = Router()


def version_key(full_name: str, version: int) -> str:
    return f"{full_name.lower()}/{version:08d}"


def version_status(tx: Tx, full_name: str, version: object) -> str | None:
    """Status of a model version, or None when it does not exist (used by serving)."""
    try:
        number = int(str(version))
    except ValueError:
        return None
    doc = tx.get(VERSIONS, version_key(full_name, number))
    return None if doc is None else str(doc["status"])


def _check_part(value: object, what: str) -> str:
    if not isinstance(value, str) or not NAME_PART.match(value):
        raise invalid(f"Invalid {what} {value!r}: use letters, digits, '_' and '-'.")
    return value.lower()


def split_full_name(full_name: str) -> tuple[str, str, str]:
    parts = full_name.split(".")
    if len(parts) != 3:
        raise invalid(f"Invalid model name {full_name!r}: expected <catalog>.<schema>.<model>.")
    catalog, schema, name = (_check_part(p, "name part") for p in parts)
    return catalog, schema, name


def load_model(req: Request, full_name: str) -> Doc:
    doc = req.tx.get(MODELS, full_name.lower())
    if doc is None:
        raise not_found(f"Routine or Model '{full_name}' does not exist.")
    return doc


def load_version(req: Request, full_name: str, version: int) -> Doc:
    load_model(req, full_name)
    doc = req.tx.get(VERSIONS, version_key(full_name, version))
    if doc is None:
        raise not_found(f"Model Version '{full_name.lower()}' version {version} does not exist.")
    return doc


def alias_doc(model: Doc, alias: str, version: int) -> Doc:
    return {
        "alias_name": alias,
        "version_num": version,
        "catalog_name": model["catalog_name"],
        "schema_name": model["schema_name"],
        "model_name": model["name"],
    }


def _with_tags(out: Doc, doc: Doc) -> Doc:
    """GET answers carry ``tags`` (the SDK's dataclasses drop them; MLflow reads them)."""
    if doc.get("_tags"):
        out["tags"] = sorted_tags(doc["_tags"])
    return out


def model_info(model: Doc, *, include_aliases: bool = False, tags: bool = False) -> Doc:
    out = public(model)
    if tags:
        _with_tags(out, model)
    if include_aliases:
        out["aliases"] = [
            alias_doc(model, a, v) for a, v in sorted(model.get("_aliases", {}).items())
        ]
    return out


def version_info(
    model: Doc, version: Doc, *, include_aliases: bool = False, tags: bool = False
) -> Doc:
    out = public(version)
    if tags:
        _with_tags(out, version)
    if include_aliases:
        out["aliases"] = [
            alias_doc(model, a, v)
            for a, v in sorted(model.get("_aliases", {}).items())
            if v == version["version"]
        ]
    return out


@router.add("POST", "/api/2.1/unity-catalog/models", "registered_models.create")
def create_model(req: Request) -> Doc:
    catalog = _check_part(req.str_field("catalog_name", required=True), "catalog_name")
    schema = _check_part(req.str_field("schema_name", required=True), "schema_name")
    name = _check_part(req.str_field("name", required=True), "name")
    doc = new_model(
        req,
        f"{catalog}.{schema}.{name}",
        comment=req.str_field("comment"),
        owner=req.str_field("owner"),
        storage_location=req.str_field("storage_location"),
    )
    return model_info(doc)


def new_model(
    req: Request,
    full_name: str,
    *,
    comment: str | None = None,
    owner: str | None = None,
    storage_location: str | None = None,
    tags: dict[str, str] | None = None,
) -> Doc:
    """Store a new model (both create routes: the 2.1 one and MLflow's, which takes tags)."""
    catalog, schema, name = split_full_name(full_name)
    full_name = f"{catalog}.{schema}.{name}"
    if req.tx.get(MODELS, full_name) is not None:
        raise already_exists(f"Routine or Model '{full_name}' already exists.")
    model_id = str(uuid.uuid4())
    doc: Doc = {
        "full_name": full_name,
        "catalog_name": catalog,
        "schema_name": schema,
        "name": name,
        "owner": owner or SANDBOX_USER,
        "storage_location": storage_location
        or f"s3://sandbox-metastore/{catalog}/{schema}/models/{model_id}",
        "metastore_id": METASTORE_ID,
        "id": model_id,
        "created_at": req.now_ms,
        "created_by": SANDBOX_USER,
        "updated_at": req.now_ms,
        "updated_by": SANDBOX_USER,
        "browse_only": False,
        "_aliases": {},
        "_tags": dict(tags or {}),
        "_next_version": 1,
    }
    if comment is not None:
        doc["comment"] = comment
    req.tx.put(MODELS, full_name, doc)
    return doc


@router.add("GET", "/api/2.1/unity-catalog/models", "registered_models.list")
def list_models(req: Request) -> Doc:
    catalog, schema = req.q("catalog_name"), req.q("schema_name")
    if (catalog is None) != (schema is None):
        raise invalid("catalog_name and schema_name must be given together.")
    max_results = req.q_int("max_results")
    if max_results is not None and max_results < 0:
        raise invalid("max_results must not be negative.")
    default, cap = (10000, 10000) if catalog else (100, 1000)
    size = min(max_results or default, cap)
    items = [
        model_info(doc)
        for _, doc in req.tx.scan(MODELS)
        if catalog is None
        or (doc["catalog_name"] == catalog.lower() and doc["schema_name"] == (schema or "").lower())
    ]
    return page(req, items, size=size, key="registered_models", token=req.q("page_token"))


@router.add("GET", "/api/2.1/unity-catalog/models/{full_name}", "registered_models.get")
def get_model(req: Request) -> Doc:
    doc = load_model(req, req.params["full_name"])
    return model_info(doc, include_aliases=req.q_bool("include_aliases"), tags=True)


@router.add("PATCH", "/api/2.1/unity-catalog/models/{full_name}", "registered_models.update")
def update_model(req: Request) -> Doc:
    """Only the name, owner and comment change; the storage location is fixed at creation."""
    doc = load_model(req, req.params["full_name"])
    location = req.str_field("storage_location")
    if location is not None and location != doc["storage_location"]:
        raise invalid(
            f"The storage location of registered model {doc['full_name']} cannot be changed"
            " after creation."
        )
    if "comment" in req.body:
        doc["comment"] = req.str_field("comment")
        if doc["comment"] is None:
            doc.pop("comment")
    if (owner := req.str_field("owner")) is not None:
        doc["owner"] = owner
    doc["updated_at"] = req.now_ms
    doc["updated_by"] = SANDBOX_USER
    new_name = req.str_field("new_name")
    old_name = doc["full_name"]
    if new_name is not None and new_name.lower() != doc["name"]:
        doc["name"] = _check_part(new_name, "new_name")
        doc["full_name"] = f"{doc['catalog_name']}.{doc['schema_name']}.{doc['name']}"
        if req.tx.get(MODELS, doc["full_name"]) is not None:
            raise already_exists(f"Routine or Model '{doc['full_name']}' already exists.")
        req.tx.delete(MODELS, old_name)
        for key, version in req.tx.scan(VERSIONS, prefix=old_name + "/"):
            req.tx.delete(VERSIONS, key)
            version["model_name"] = doc["name"]
            req.tx.put(VERSIONS, version_key(doc["full_name"], version["version"]), version)
    req.tx.put(MODELS, doc["full_name"], doc)
    return model_info(doc)


@router.add("DELETE", "/api/2.1/unity-catalog/models/{full_name}", "registered_models.delete")
def delete_model(req: Request) -> None:
    doc = load_model(req, req.params["full_name"])
    for key, _ in req.tx.scan(VERSIONS, prefix=doc["full_name"] + "/"):
        req.tx.delete(VERSIONS, key)
    req.tx.delete(MODELS, doc["full_name"])
    req.tx.delete("uc_grants", f"FUNCTION:{doc['full_name']}")  # grants go with their model


@router.add("POST", "/api/2.1/unity-catalog/models/versions", "model_versions.create")
def create_version(req: Request) -> Doc:
    catalog = _check_part(req.str_field("catalog_name", required=True), "catalog_name")
    schema = _check_part(req.str_field("schema_name", required=True), "schema_name")
    name = _check_part(req.str_field("model_name", required=True), "model_name")
    source = req.str_field("source", required=True)
    model = load_model(req, f"{catalog}.{schema}.{name}")
    number = int(model["_next_version"])
    model["_next_version"] = number + 1
    req.tx.put(MODELS, model["full_name"], model)
    doc: Doc = {
        "model_name": name,
        "catalog_name": catalog,
        "schema_name": schema,
        "version": number,
        "source": source,
        "status": "PENDING_REGISTRATION",
        "id": str(uuid.uuid4()),
        "storage_location": f"{model['storage_location']}/versions/{number}",
        "metastore_id": METASTORE_ID,
        "created_at": req.now_ms,
        "created_by": SANDBOX_USER,
        "updated_at": req.now_ms,
        "updated_by": SANDBOX_USER,
        "_tags": {},
    }
    for key in ("comment", "run_id"):
        if (value := req.str_field(key)) is not None:
            doc[key] = value
    if "run_id" in doc:
        doc["run_workspace_id"] = 0
    req.tx.put(VERSIONS, version_key(model["full_name"], number), doc)
    return version_info(model, doc)


@router.add(
    "PATCH",
    "/api/2.1/unity-catalog/models/{full_name}/versions/{version}/finalize",
    "model_versions.finalize",
)
def finalize_version(req: Request) -> Doc:
    number = req.param_int("version")
    model = load_model(req, req.params["full_name"])
    doc = load_version(req, model["full_name"], number)
    if doc["status"] == "FAILED_REGISTRATION":
        raise invalid_state(f"Model version {doc['version']} failed registration.")
    doc["status"] = "READY"
    doc["updated_at"] = req.now_ms
    req.tx.put(VERSIONS, version_key(model["full_name"], doc["version"]), doc)
    return version_info(model, doc)


@router.add("GET", "/api/2.1/unity-catalog/models/{full_name}/versions", "model_versions.list")
def list_versions(req: Request) -> Doc:
    model = load_model(req, req.params["full_name"])
    max_results = req.q_int("max_results")
    if max_results is not None and max_results < 0:
        raise invalid("max_results must not be negative.")
    size = min(max_results or 100, 1000)
    items = [
        version_info(model, doc)
        for _, doc in req.tx.scan(VERSIONS, prefix=model["full_name"] + "/")
    ]
    return page(req, items, size=size, key="model_versions", token=req.q("page_token"))


@router.add(
    "GET", "/api/2.1/unity-catalog/models/{full_name}/versions/{version}", "model_versions.get"
)
def get_version(req: Request) -> Doc:
    number = req.param_int("version")
    model = load_model(req, req.params["full_name"])
    doc = load_version(req, model["full_name"], number)
    return version_info(model, doc, include_aliases=req.q_bool("include_aliases"), tags=True)


@router.add(
    "PATCH",
    "/api/2.1/unity-catalog/models/{full_name}/versions/{version}",
    "model_versions.update",
)
def update_version(req: Request) -> Doc:
    number = req.param_int("version")
    model = load_model(req, req.params["full_name"])
    doc = load_version(req, model["full_name"], number)
    if "comment" in req.body:
        doc["comment"] = req.str_field("comment")
    doc["updated_at"] = req.now_ms
    req.tx.put(VERSIONS, version_key(model["full_name"], doc["version"]), doc)
    return version_info(model, doc)


@router.add(
    "DELETE",
    "/api/2.1/unity-catalog/models/{full_name}/versions/{version}",
    "model_versions.delete",
)
def delete_version(req: Request) -> None:
    number = req.param_int("version")
    model = load_model(req, req.params["full_name"])
    doc = load_version(req, model["full_name"], number)
    req.tx.delete(VERSIONS, version_key(model["full_name"], doc["version"]))
    model["_aliases"] = {a: v for a, v in model["_aliases"].items() if v != doc["version"]}
    req.tx.put(MODELS, model["full_name"], model)


def check_alias(alias: str) -> str:
    if not ALIAS.match(alias):
        raise invalid(f"Invalid alias name {alias!r}: use letters, digits, '_' and '-'.")
    if alias.lower() == "latest":
        raise invalid("'latest' alias name (case insensitive) is reserved.")
    if re.match(r"^[vV]\d+$", alias):
        raise invalid(f"Version alias name '{alias}' is reserved.")
    return alias


@router.add(
    "PUT",
    "/api/2.1/unity-catalog/models/{full_name}/aliases/{alias}",
    "registered_models.set_alias",
)
def set_alias(req: Request) -> Doc:
    model = load_model(req, req.params["full_name"])
    alias = check_alias(req.params["alias"])
    number = req.body.get("version_num")
    if isinstance(number, str) and number.isdigit():
        number = int(number)
    if not isinstance(number, int) or isinstance(number, bool):
        raise invalid("version_num must be an integer.")
    load_version(req, model["full_name"], number)
    model["_aliases"][alias] = number
    model["updated_at"] = req.now_ms
    req.tx.put(MODELS, model["full_name"], model)
    out = alias_doc(model, alias, number)
    out["id"] = f"{model['id']}/{alias}"
    return out


@router.add(
    "GET",
    "/api/2.1/unity-catalog/models/{full_name}/aliases/{alias}",
    "model_versions.get_by_alias",
)
def get_by_alias(req: Request) -> Doc:
    model = load_model(req, req.params["full_name"])
    alias = req.params["alias"]
    number = model["_aliases"].get(alias)
    if number is None:
        raise not_found(f"Alias {alias} does not exist for model {model['full_name']}.")
    doc = load_version(req, model["full_name"], number)
    return version_info(model, doc, include_aliases=req.q_bool("include_aliases"), tags=True)


@router.add(
    "DELETE",
    "/api/2.1/unity-catalog/models/{full_name}/aliases/{alias}",
    "registered_models.delete_alias",
)
def delete_alias(req: Request) -> None:
    model = load_model(req, req.params["full_name"])
    alias = req.params["alias"]
    if model["_aliases"].pop(alias, None) is None:
        raise not_found(f"Alias {alias} does not exist for model {model['full_name']}.")
    req.tx.put(MODELS, model["full_name"], model)
