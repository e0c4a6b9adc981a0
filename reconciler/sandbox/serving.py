"""Model serving endpoints: ``/api/2.0/serving-endpoints`` (the state machine and what GET
shows are in ``serving_state``, config validation and defaults in ``serving_config``).

Like the service, there is no update path for ``description``, ``route_optimized``,
``budget_policy_id`` or an inference table's location: they are set at creation only.
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
)
from reconciler.sandbox.config import SANDBOX_USER
from reconciler.sandbox.optimization import check_throughput
from reconciler.sandbox.permissions import caller_level, grant_creator, require
from reconciler.sandbox.serving_state import COLLECTION, IDS, detailed, load, settle, summary
from reconciler.sandbox.store import Doc

SERVES = ("serving_endpoint", "quota")
"""The asset kinds (address prefixes) these routes serve."""
router = Router()


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


def _level(req: Request, doc: Doc) -> str | None:
    if doc.get("_foundation"):
        return "CAN_QUERY" if not req.config.caller_is_admin else "CAN_MANAGE"
    return caller_level(req, "serving-endpoints", doc["id"])


def _loaded(req: Request, *, manage: bool) -> Doc:
    """The endpoint named in the path, if the caller may view (or manage) it."""
    doc = load(req, req.params["name"])
    if not doc.get("_foundation"):
        what = f"serving endpoint {doc['name']}"
        require(req, "serving-endpoints", doc["id"], what, manage=manage)
    return doc


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


def _notifications(value: Any) -> Doc:
    """Lists of addresses; an empty list is not kept (JSON answers leave empty lists out)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid("email_notifications must be an object.")
    out: Doc = {}
    for key, addresses in value.items():
        if key not in ("on_update_failure", "on_update_success"):
            raise invalid(f"Unknown email_notifications field {key!r}.")
        for address in addresses or []:
            if not isinstance(address, str) or "@" not in address:
                raise invalid(f"Invalid email address {address!r} in email_notifications.{key}.")
        if addresses:
            out[key] = list(addresses)
    return out


def _current_config(doc: Doc) -> Doc:
    pending = doc.get("_pending")
    return dict(pending["config"]) if pending else dict(doc.get("config") or {})


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
    route_optimized = bool(body.get("route_optimized"))
    doc: Doc = {
        "name": name,
        "id": uuid.uuid4().hex,
        "creator": SANDBOX_USER,
        "creation_timestamp": req.now_ms,
        "last_updated_timestamp": req.now_ms,
        "tags": _tags_list(_tag_map(body.get("tags"))),
        "route_optimized": route_optimized,
        "_update": "NOT_UPDATING",
        "_ready_at": None,
    }
    if body.get("description") is not None:
        doc["description"] = body["description"]
    notifications = _notifications(body.get("email_notifications"))
    if notifications:
        doc["email_notifications"] = notifications
    # Kept, never returned: GET shows the effective policy, maybe the workspace's default.
    policy = req.str_field("budget_policy_id") or None
    if policy is not None:
        doc["_budget_policy_id"] = policy
    effective = policy or req.config.workspace_budget_policy_id
    if effective:
        doc["effective_budget_policy_id"] = effective
    if body.get("ai_gateway") is not None:
        doc["ai_gateway"] = sc.ai_gateway(body["ai_gateway"])
    telemetry = sc.telemetry(body.get("telemetry_config"))
    if telemetry is None and req.config.workspace_telemetry_profile_id:
        telemetry = {"telemetry_profile_id": req.config.workspace_telemetry_profile_id}
    if telemetry is not None:
        doc["telemetry_config"] = telemetry
    if route_optimized:
        doc["endpoint_url"] = f"{req.base_url}/serving-endpoints/{name}/invocations"
    if body.get("config") is not None:
        config = body["config"]
        if not isinstance(config, dict):
            raise invalid("config must be an object.")
        core = sc.core_config(config)
        check_throughput(req.tx, core)
        _start_update(req, doc, core)
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
    doc = _loaded(req, manage=False)
    return detailed(doc, req.now, _level(req, doc))


@router.add("DELETE", "/api/2.0/serving-endpoints/{name}", "serving_endpoints.delete")
def delete(req: Request) -> None:
    doc = _loaded(req, manage=True)
    if doc.get("_foundation"):
        raise ApiError(
            403, "PERMISSION_DENIED", f"Pay-per-token endpoint {doc['name']} cannot be deleted."
        )
    req.tx.delete(COLLECTION, doc["name"])
    req.tx.delete(IDS, doc["id"])
    req.tx.delete("permissions", f"serving-endpoints/{doc['id']}")


@router.add("PUT", "/api/2.0/serving-endpoints/{name}/config", "serving_endpoints.update_config")
def update_config(req: Request) -> Doc:
    doc = _loaded(req, manage=True)
    _check_not_foundation(doc)
    _check_not_updating(doc, "config")
    config = sc.core_config(req.body)
    check_throughput(req.tx, config)
    sc.keep_auto_capture(_current_config(doc), config, doc["name"])
    _start_update(req, doc, config)
    req.tx.put(COLLECTION, doc["name"], doc)
    return detailed(doc, req.now, _level(req, doc))


@router.add(
    "PUT", "/api/2.0/serving-endpoints/{name}/ai-gateway", "serving_endpoints.put_ai_gateway"
)
def put_ai_gateway(req: Request) -> Doc:
    doc = _loaded(req, manage=True)
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
    doc = _loaded(req, manage=True)
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
    _loaded(req, manage=True)
    limits = req.body.get("rate_limits") or []
    return {"rate_limits": limits}


@router.add(
    "PATCH",
    "/api/2.0/serving-endpoints/{name}/notifications",
    "serving_endpoints.update_notifications",
)
def update_notifications(req: Request) -> Doc:
    doc = _loaded(req, manage=True)
    notifications = _notifications(req.body.get("email_notifications"))
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
    doc = _loaded(req, manage=True)
    _check_not_updating(doc, "telemetry configuration")
    telemetry = sc.telemetry(req.body.get("telemetry_config"))
    if telemetry is not None:
        doc["telemetry_config"] = telemetry
    else:
        doc.pop("telemetry_config", None)
    req.tx.put(COLLECTION, doc["name"], doc)
    return detailed(doc, req.now, _level(req, doc))


@router.add(
    "GET",
    "/api/2.0/serving-endpoints/{name}/served-models/{served}/{kind}",
    "serving_endpoints.logs",
)
def logs(req: Request) -> Doc:
    doc = _loaded(req, manage=False)
    if req.params["kind"] not in ("logs", "build-logs"):
        raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for 'GET {req.path}'")
    names = [e["name"] for e in doc.get("config", {}).get("served_entities", [])]
    if req.params["served"] not in names:
        raise not_found(f"Served model {req.params['served']} does not exist.")
    return {"logs": "sandbox: no container logs\n"}
