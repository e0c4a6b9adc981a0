"""Model serving endpoints: ``/api/2.0/serving-endpoints``.

A config change is stored as a pending config with a due time; every read first *settles* the
endpoint: once due, the pending config becomes active (NOT_UPDATING) if every served model
version exists and is READY, else the update fails (UPDATE_FAILED) and the old config stays.
"""

from __future__ import annotations

import uuid
from typing import Any

from reconciler.sandbox import serving_config as sc
from reconciler.sandbox.api import (
    ApiError,
    Request,
    Router,
    already_exists,
    conflict,
    invalid,
    not_found,
    public,
)
from reconciler.sandbox.config import SANDBOX_USER, SandboxConfig
from reconciler.sandbox.permissions import grant_creator
from reconciler.sandbox.store import Doc, Tx
from reconciler.sandbox.unity_catalog import version_status

COLLECTION = "serving_endpoints"
IDS = "serving_endpoint_ids"
router = Router()

_SUMMARY_KEYS = (
    "ai_gateway",
    "budget_policy_id",
    "creation_timestamp",
    "creator",
    "description",
    "id",
    "last_updated_timestamp",
    "name",
    "tags",
    "task",
    "telemetry_config",
    "usage_policy_id",
)
_SPEC_KEYS = ("entity_name", "entity_version", "external_model", "foundation_model", "name")


def load(req: Request, name: str) -> Doc:
    """The settled endpoint, or 404 as the service words it."""
    doc = req.tx.get(COLLECTION, name)
    if doc is None:
        raise not_found(f"Endpoint with name '{name}' does not exist.")
    if settle(req.tx, doc, req.now, req.config):
        req.tx.put(COLLECTION, name, doc)
    return doc


def settle(tx: Tx, doc: Doc, now: float, config: SandboxConfig) -> bool:
    """Finish a due config update. True when ``doc`` changed and must be saved."""
    pending = doc.get("_pending")
    if not pending or now < pending["due"]:
        return False
    problems = _problems(tx, pending["config"])
    doc.pop("_pending")
    if problems:
        doc["_update"] = "UPDATE_FAILED"
        doc["_update_message"] = " ".join(problems.values())
        doc["_failed"] = dict(pending, problems=problems)
        return True
    doc["config"] = dict(pending["config"], config_version=pending["config_version"])
    doc["_update"] = "NOT_UPDATING"
    doc.pop("_update_message", None)
    doc.pop("_failed", None)
    if doc.get("_ready_at") is None:
        readiness = config.delays.endpoint_ready + config.faults.slow_readiness
        doc["_ready_at"] = pending["due"] + readiness
    return True


def _problems(tx: Tx, config: Doc) -> dict[str, str]:
    """Why each served entity of ``config`` cannot deploy, by entity name."""
    out = {}
    for key, name_key, version_key in (
        ("served_entities", "entity_name", "entity_version"),
        ("served_models", "model_name", "model_version"),
    ):
        for entity in config.get(key, []):
            model, version = entity.get(name_key), entity.get(version_key)
            if not model or entity.get("foundation_model") or entity.get("external_model"):
                continue
            status = version_status(tx, model, version)
            if status is None:
                out[entity["name"]] = f"Model version {model} version {version} does not exist."
            elif status != "READY":
                out[entity["name"]] = (
                    f"Model version {model} version {version} is {status}, not READY."
                )
    return out


def _failed_config(failed: Doc) -> Doc:
    """The config a failed update tried to reach, as ``pending_config`` shows it: the entities
    that could not deploy are DEPLOYMENT_FAILED with the reason, the others were aborted."""
    problems: dict[str, str] = failed.get("problems") or {}
    out = dict(failed["config"])
    for key in ("served_entities", "served_models"):
        if key not in out:
            continue
        entities = []
        for entity in out[key]:
            message = problems.get(entity["name"])
            state = (
                {"deployment": "DEPLOYMENT_FAILED", "deployment_state_message": message}
                if message
                else {
                    "deployment": "DEPLOYMENT_ABORTED",
                    "deployment_state_message": "Aborted: another served entity failed.",
                }
            )
            entities.append(dict(entity, state=state))
        out[key] = entities
    return dict(out, config_version=failed["config_version"], start_time=failed["start_time"])


def _ready(doc: Doc, now: float) -> bool:
    ready_at = doc.get("_ready_at")
    return ready_at is not None and now >= ready_at


def _with_states(config: Doc, deployment: str, message: str) -> Doc:
    out = dict(config)
    for key in ("served_entities", "served_models"):
        if key in out:
            out[key] = [
                dict(e, state={"deployment": deployment, "deployment_state_message": message})
                for e in out[key]
            ]
    return out


def detailed(doc: Doc, now: float) -> Doc:
    """ServingEndpointDetailed as GET answers it."""
    out = public(doc)
    ready = _ready(doc, now)
    out["state"] = {"ready": "READY" if ready else "NOT_READY", "config_update": doc["_update"]}
    if "config" in doc:
        deployment = "DEPLOYMENT_READY" if ready else "DEPLOYMENT_CREATING"
        out["config"] = _with_states(doc["config"], deployment, "")
    pending = doc.get("_pending")
    if pending:
        cfg = _with_states(pending["config"], "DEPLOYMENT_CREATING", "Creating the container.")
        out["pending_config"] = dict(
            cfg, config_version=pending["config_version"], start_time=pending["start_time"]
        )
    elif doc["_update"] == "UPDATE_FAILED" and doc.get("_failed"):
        # The failed config stays visible until the next update, carrying the reason.
        out["pending_config"] = _failed_config(doc["_failed"])
    out["permission_level"] = "CAN_MANAGE"
    return out


def summary(doc: Doc, now: float) -> Doc:
    """The list item: no traffic, no workload or scaling fields."""
    full = detailed(doc, now)
    out = {k: full[k] for k in _SUMMARY_KEYS if k in full}
    out["state"] = full["state"]
    if "config" in full:
        cfg: Doc = {
            "served_entities": [
                {k: e[k] for k in _SPEC_KEYS if k in e} for e in full["config"]["served_entities"]
            ]
        }
        if "served_models" in full["config"]:
            cfg["served_models"] = [
                {k: m[k] for k in ("model_name", "model_version", "name") if k in m}
                for m in full["config"]["served_models"]
            ]
        out["config"] = cfg
    return out


def _stamp(config: Doc, now_ms: int) -> Doc:
    for key in ("served_entities", "served_models"):
        for entity in config.get(key, []):
            entity.setdefault("creation_timestamp", now_ms)
            entity.setdefault("creator", SANDBOX_USER)
    return config


def _start_update(req: Request, doc: Doc, config: Doc) -> None:
    version = int(doc.get("_config_versions", 0)) + 1
    doc["_config_versions"] = version
    delay = req.config.delays.config_update + req.config.faults.slow_readiness
    doc.pop("_failed", None)
    doc["_pending"] = {
        "config": _stamp(config, req.now_ms),
        "config_version": version,
        "start_time": req.now_ms,
        "due": req.now + delay,
    }
    doc["_update"] = "IN_PROGRESS"
    doc["last_updated_timestamp"] = req.now_ms


def _check_not_updating(doc: Doc, what: str) -> None:
    if doc["_update"] == "IN_PROGRESS":
        raise conflict(
            f"Endpoint {doc['name']} is currently updating. Wait for the update to complete"
            f" before updating its {what}."
        )


def _check_not_foundation(doc: Doc) -> None:
    if doc.get("_foundation"):
        raise invalid(f"Endpoint {doc['name']} is a pay-per-token endpoint; its config is fixed.")


def _tag_map(value: Any) -> dict[str, str | None]:
    if value is None:
        return {}
    if not isinstance(value, list):
        raise invalid("tags must be a list of {key, value}.")
    out: dict[str, str | None] = {}
    for tag in value:
        if not isinstance(tag, dict) or not tag.get("key"):
            raise invalid("Every tag needs a key.")
        out[str(tag["key"])] = tag.get("value")
    return out


def _tags_list(tags: dict[str, str | None]) -> list[Doc]:
    return [{"key": k, **({"value": v} if v is not None else {})} for k, v in sorted(tags.items())]


def _telemetry(value: Any) -> Doc:
    cfg = dict(value) if isinstance(value, dict) else {}
    cfg.pop("table_names", None)
    return cfg


@router.add("POST", "/api/2.0/serving-endpoints", "serving_endpoints.create")
def create(req: Request) -> Doc:
    name = req.str_field("name", required=True) or ""
    if not sc.ENDPOINT_NAME.match(name):
        raise invalid(
            f"Invalid endpoint name {name!r}: use up to 63 alphanumerics, '-' and '_',"
            " starting with an alphanumeric."
        )
    if req.tx.get(COLLECTION, name) is not None:
        raise already_exists(f"Serving endpoint with name {name} already exists")
    body = req.body
    doc: Doc = {
        "name": name,
        "id": uuid.uuid4().hex,
        "creator": SANDBOX_USER,
        "creation_timestamp": req.now_ms,
        "last_updated_timestamp": req.now_ms,
        "tags": _tags_list(_tag_map(body.get("tags"))),
        "_update": "NOT_UPDATING",
        "_ready_at": None,
    }
    for key in ("description", "budget_policy_id", "route_optimized", "email_notifications"):
        if body.get(key) is not None:
            doc[key] = body[key]
    if body.get("ai_gateway") is not None:
        doc["ai_gateway"] = sc.ai_gateway(body["ai_gateway"])
    if body.get("telemetry_config") is not None:
        doc["telemetry_config"] = _telemetry(body["telemetry_config"])
    if body.get("route_optimized"):
        doc["endpoint_url"] = f"{req.base_url}/serving-endpoints/{name}/invocations"
    if body.get("config") is not None:
        config = body["config"]
        if not isinstance(config, dict):
            raise invalid("config must be an object.")
        _start_update(req, doc, sc.core_config(config))
    req.tx.put(COLLECTION, name, doc)
    req.tx.put(IDS, doc["id"], {"name": name})
    grant_creator(req.tx, "serving-endpoints", doc["id"])
    return detailed(doc, req.now)


@router.add("GET", "/api/2.0/serving-endpoints", "serving_endpoints.list")
def list_endpoints(req: Request) -> Doc:
    items = []
    for name, doc in req.tx.scan(COLLECTION):
        if settle(req.tx, doc, req.now, req.config):
            req.tx.put(COLLECTION, name, doc)
        items.append(summary(doc, req.now))
    return {"endpoints": items}


@router.add("GET", "/api/2.0/serving-endpoints/{name}", "serving_endpoints.get")
def get(req: Request) -> Doc:
    return detailed(load(req, req.params["name"]), req.now)


@router.add("DELETE", "/api/2.0/serving-endpoints/{name}", "serving_endpoints.delete")
def delete(req: Request) -> None:
    doc = load(req, req.params["name"])
    if doc.get("_foundation"):
        raise ApiError(
            403, "PERMISSION_DENIED", f"Pay-per-token endpoint {doc['name']} cannot be deleted."
        )
    req.tx.delete(COLLECTION, doc["name"])
    req.tx.delete(IDS, doc["id"])
    req.tx.delete("permissions", f"serving-endpoints/{doc['id']}")


@router.add("PUT", "/api/2.0/serving-endpoints/{name}/config", "serving_endpoints.update_config")
def update_config(req: Request) -> Doc:
    doc = load(req, req.params["name"])
    _check_not_foundation(doc)
    _check_not_updating(doc, "config")
    _start_update(req, doc, sc.core_config(req.body))
    req.tx.put(COLLECTION, doc["name"], doc)
    return detailed(doc, req.now)


@router.add(
    "PUT", "/api/2.0/serving-endpoints/{name}/ai-gateway", "serving_endpoints.put_ai_gateway"
)
def put_ai_gateway(req: Request) -> Doc:
    doc = load(req, req.params["name"])
    gateway = sc.ai_gateway(req.body)
    if gateway:
        doc["ai_gateway"] = gateway
    else:
        doc.pop("ai_gateway", None)
    doc["last_updated_timestamp"] = req.now_ms
    req.tx.put(COLLECTION, doc["name"], doc)
    return gateway


@router.add("PATCH", "/api/2.0/serving-endpoints/{name}/tags", "serving_endpoints.patch")
def patch_tags(req: Request) -> Doc:
    doc = load(req, req.params["name"])
    tags = _tag_map(doc.get("tags"))
    deletes = req.body.get("delete_tags") or []
    if not isinstance(deletes, list):
        raise invalid("delete_tags must be a list of keys.")
    for key in deletes:
        tags.pop(str(key), None)
    tags.update(_tag_map(req.body.get("add_tags")))
    doc["tags"] = _tags_list(tags)
    req.tx.put(COLLECTION, doc["name"], doc)
    return {"tags": doc["tags"]}


@router.add("PUT", "/api/2.0/serving-endpoints/{name}/rate-limits", "serving_endpoints.put")
def put_rate_limits(req: Request) -> Doc:
    load(req, req.params["name"])
    limits = req.body.get("rate_limits") or []
    return {"rate_limits": limits}


@router.add(
    "PATCH",
    "/api/2.0/serving-endpoints/{name}/notifications",
    "serving_endpoints.update_notifications",
)
def update_notifications(req: Request) -> Doc:
    doc = load(req, req.params["name"])
    notifications = req.body.get("email_notifications")
    if notifications:
        doc["email_notifications"] = notifications
    else:
        doc.pop("email_notifications", None)
    req.tx.put(COLLECTION, doc["name"], doc)
    return {"name": doc["name"], "email_notifications": notifications or {}}


@router.add(
    "PATCH",
    "/api/2.0/serving-endpoints/{name}/telemetry-config",
    "serving_endpoints.patch_telemetry_config",
)
def patch_telemetry(req: Request) -> Doc:
    doc = load(req, req.params["name"])
    _check_not_updating(doc, "telemetry configuration")
    if req.body.get("telemetry_config") is not None:
        doc["telemetry_config"] = _telemetry(req.body["telemetry_config"])
    else:
        doc.pop("telemetry_config", None)
    req.tx.put(COLLECTION, doc["name"], doc)
    return detailed(doc, req.now)


@router.add(
    "GET",
    "/api/2.0/serving-endpoints/{name}/served-models/{served}/{kind}",
    "serving_endpoints.logs",
)
def logs(req: Request) -> Doc:
    doc = load(req, req.params["name"])
    if req.params["kind"] not in ("logs", "build-logs"):
        raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for 'GET {req.path}'")
    names = [e["name"] for e in doc.get("config", {}).get("served_entities", [])]
    if req.params["served"] not in names:
        raise not_found(f"Served model {req.params['served']} does not exist.")
    return {"logs": "sandbox: no container logs\n"}
