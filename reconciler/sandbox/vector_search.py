"""Vector Search endpoints: ``/api/2.0/vector-search/endpoints`` (indexes: ``vector_indexes``).

States are computed from timestamps on read: an endpoint is PROVISIONING until
``created + delay``, then ONLINE; ``stop`` makes it STOPPED and ``start`` STARTING, then ONLINE.
As in the service, GET returns ``effective_budget_policy_id`` (the policy set, else the
workspace's default), never the ``budget_policy_id`` that was set, and ``endpoint_type``
cannot change; ``target_qps`` (PATCH), the budget policy and custom tags can.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from reconciler.sandbox.api import (
    Request,
    Router,
    already_exists,
    invalid,
    not_found,
    page,
    public,
)
from reconciler.sandbox.config import SANDBOX_USER
from reconciler.sandbox.permissions import grant_creator
from reconciler.sandbox.store import Doc

ENDPOINTS = "vs_endpoints"
ENDPOINT_IDS = "vs_endpoint_ids"
INDEXES = "vs_indexes"
ENDPOINT_TYPES = {"STANDARD", "STORAGE_OPTIMIZED"}
ENDPOINT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,48}$")
SERVES = ("vector_search_endpoint",)
"""The asset kinds (address prefixes) these routes serve."""
router = Router()


def online_at(doc: Doc) -> float | None:
    """When the endpoint is (or will be) ONLINE; None while stopped."""
    return None if doc.get("_stopped") else float(doc["_online_at"])


def index_counts(req: Request) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, index in req.tx.scan(INDEXES):
        counts[index["endpoint_name"]] = counts.get(index["endpoint_name"], 0) + 1
    return counts


def endpoint_info(req: Request, doc: Doc, counts: dict[str, int] | None = None) -> Doc:
    out = public(doc)
    out.pop("budget_policy_id", None)  # never returned (state written by older sandboxes)
    ready_at = online_at(doc)
    if ready_at is None:
        status = {"state": "STOPPED", "message": "Endpoint is stopped."}
    elif req.now >= ready_at:
        status = {"state": "ONLINE", "message": "Endpoint is online."}
    elif doc.get("_restarted"):
        status = {"state": "STARTING", "message": "Endpoint is starting."}
    else:
        status = {"state": "PROVISIONING", "message": "Endpoint is being provisioned."}
    out["endpoint_status"] = status
    out["num_indexes"] = (counts if counts is not None else index_counts(req)).get(doc["name"], 0)
    return out


def load_endpoint(req: Request, name: str) -> Doc:
    doc = req.tx.get(ENDPOINTS, name)
    if doc is None:
        raise not_found(f"Vector search endpoint {name} not found")
    return doc


def _set_budget_policy(req: Request, doc: Doc, policy: str | None) -> None:
    """Keep the requested policy (never returned) and what is in effect (the workspace's
    default when none is set)."""
    doc.pop("budget_policy_id", None)
    doc.pop("_budget_policy_id", None)
    if policy:
        doc["_budget_policy_id"] = policy
    effective = policy or req.config.workspace_budget_policy_id
    if effective:
        doc["effective_budget_policy_id"] = effective
    else:
        doc.pop("effective_budget_policy_id", None)


def _tags(value: Any) -> list[Doc]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, dict) and t.get("key") for t in value):
        raise invalid("custom_tags must be a list of {key, value}.")
    by_key = {str(t["key"]): t.get("value") for t in value}
    return [
        {"key": k, **({"value": v} if v is not None else {})} for k, v in sorted(by_key.items())
    ]


@router.add("POST", "/api/2.0/vector-search/endpoints", "vector_search_endpoints.create_endpoint")
def create_endpoint(req: Request) -> Doc:
    name = req.str_field("name", required=True) or ""
    if not ENDPOINT_NAME.match(name):
        raise invalid(
            f"Invalid endpoint name {name!r}: use alphanumerics, '-' and '_' (at most 49)."
        )
    endpoint_type = req.str_field("endpoint_type", required=True)
    if endpoint_type not in ENDPOINT_TYPES:
        raise invalid(
            f"Invalid endpoint_type {endpoint_type!r}; use STANDARD or STORAGE_OPTIMIZED."
        )
    if req.tx.get(ENDPOINTS, name) is not None:
        raise already_exists(f"Vector search endpoint with name {name} already exists")
    delay = req.config.delays.vs_endpoint + req.config.faults.slow_readiness
    doc: Doc = {
        "name": name,
        "id": str(uuid.uuid4()),
        "endpoint_type": endpoint_type,
        "creator": SANDBOX_USER,
        "creation_timestamp": req.now_ms,
        "last_updated_timestamp": req.now_ms,
        "last_updated_user": SANDBOX_USER,
        "custom_tags": [],
        "_online_at": req.now + delay,
    }
    _set_budget_policy(req, doc, req.str_field("budget_policy_id"))
    if (usage := req.str_field("usage_policy_id")) is not None:
        doc["usage_policy_id"] = usage
    if req.body.get("target_qps") is not None:
        doc["scaling_info"] = {
            "requested_target_qps": req.body["target_qps"],
            "state": "SCALING_CHANGE_APPLIED",
        }
    req.tx.put(ENDPOINTS, name, doc)
    req.tx.put(ENDPOINT_IDS, doc["id"], {"name": name})
    grant_creator(req.tx, "vector-search-endpoints", doc["id"])
    return endpoint_info(req, doc)


@router.add("GET", "/api/2.0/vector-search/endpoints", "vector_search_endpoints.list_endpoints")
def list_endpoints(req: Request) -> Doc:
    counts = index_counts(req)
    items = [endpoint_info(req, doc, counts) for _, doc in req.tx.scan(ENDPOINTS)]
    return page(
        req, items, size=req.config.vs_page_size, key="endpoints", token=req.q("page_token")
    )


@router.add(
    "GET", "/api/2.0/vector-search/endpoints/{name}", "vector_search_endpoints.get_endpoint"
)
def get_endpoint(req: Request) -> Doc:
    return endpoint_info(req, load_endpoint(req, req.params["name"]))


@router.add(
    "DELETE", "/api/2.0/vector-search/endpoints/{name}", "vector_search_endpoints.delete_endpoint"
)
def delete_endpoint(req: Request) -> None:
    doc = load_endpoint(req, req.params["name"])
    req.tx.delete(ENDPOINTS, doc["name"])
    req.tx.delete(ENDPOINT_IDS, doc["id"])
    req.tx.delete("permissions", f"vector-search-endpoints/{doc['id']}")


@router.add(
    "PATCH", "/api/2.0/vector-search/endpoints/{name}", "vector_search_endpoints.patch_endpoint"
)
def patch_endpoint(req: Request) -> Doc:
    doc = load_endpoint(req, req.params["name"])
    wanted_type = req.str_field("endpoint_type")
    if wanted_type is not None and wanted_type != doc["endpoint_type"]:
        raise invalid(
            f"Endpoint {doc['name']}: endpoint_type cannot be changed (it is"
            f" {doc['endpoint_type']}). Create a new endpoint of type {wanted_type}."
        )
    qps = req.body.get("target_qps")
    if qps is not None:
        if not isinstance(qps, int) or qps < 0:
            raise invalid("target_qps must be a non-negative integer.")
        doc["scaling_info"] = {"requested_target_qps": qps, "state": "SCALING_CHANGE_APPLIED"}
    doc["last_updated_timestamp"] = req.now_ms
    req.tx.put(ENDPOINTS, doc["name"], doc)
    return endpoint_info(req, doc)


@router.add(
    "PATCH",
    "/api/2.0/vector-search/endpoints/{name}/tags",
    "vector_search_endpoints.update_endpoint_custom_tags",
)
def update_tags(req: Request) -> Doc:
    doc = load_endpoint(req, req.params["name"])
    doc["custom_tags"] = _tags(req.body.get("custom_tags"))
    doc["last_updated_timestamp"] = req.now_ms
    req.tx.put(ENDPOINTS, doc["name"], doc)
    return {"name": doc["name"], "custom_tags": doc["custom_tags"]}


@router.add(
    "PATCH",
    "/api/2.0/vector-search/endpoints/{name}/budget-policy",
    "vector_search_endpoints.update_endpoint_budget_policy",
)
def update_budget_policy(req: Request) -> Doc:
    doc = load_endpoint(req, req.params["name"])
    _set_budget_policy(req, doc, req.str_field("budget_policy_id"))
    doc["last_updated_timestamp"] = req.now_ms
    req.tx.put(ENDPOINTS, doc["name"], doc)
    out: Doc = {}
    if doc.get("_budget_policy_id"):
        out["budget_policy_id"] = doc["_budget_policy_id"]
    if doc.get("effective_budget_policy_id"):
        out["effective_budget_policy_id"] = doc["effective_budget_policy_id"]
    return out


@router.add(
    "POST", "/api/2.0/vector-search/endpoints/{name}/stop", "vector_search_endpoints.stop_endpoint"
)
def stop_endpoint(req: Request) -> Doc:
    doc = load_endpoint(req, req.params["name"])
    doc["_stopped"] = True
    doc["last_updated_timestamp"] = req.now_ms
    req.tx.put(ENDPOINTS, doc["name"], doc)
    return endpoint_info(req, doc)


@router.add(
    "POST",
    "/api/2.0/vector-search/endpoints/{name}/start",
    "vector_search_endpoints.start_endpoint",
)
def start_endpoint(req: Request) -> Doc:
    doc = load_endpoint(req, req.params["name"])
    if doc.get("_stopped"):
        delay = req.config.delays.vs_endpoint + req.config.faults.slow_readiness
        doc["_stopped"] = False
        doc["_restarted"] = True
        doc["_online_at"] = req.now + delay
        doc["last_updated_timestamp"] = req.now_ms
        req.tx.put(ENDPOINTS, doc["name"], doc)
    return endpoint_info(req, doc)
