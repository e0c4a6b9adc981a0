"""Vector Search indexes: ``/api/2.0/vector-search/indexes``.

An index becomes ready ``delay`` after its endpoint is ONLINE (and is OFFLINE while its
endpoint is stopped or gone). There is no update call: the spec is immutable, as in the
service. What the service does on real workspaces, this does too:

* Deletion is two-phase: right after DELETE the index is gone from GET (404), but for
  ``Delays.index_deletion`` (+ ``Faults.slow_deletion``) seconds a create of the same name is a
  400 INVALID_PARAMETER_VALUE "Index <name> is currently pending deletion. ...".
* ``direct_access_index_spec.schema_json`` is rewritten on create: Spark type names
  (``integer`` -> ``int``, ``long`` -> ``bigint``, ..., also inside ``array<...>``), columns in
  sorted key order.
* ``index_subtype`` is HYBRID when omitted.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from reconciler.sandbox.api import (
    Request,
    Router,
    already_exists,
    invalid,
    invalid_state,
    not_found,
    page,
    public,
)
from reconciler.sandbox.config import SANDBOX_USER
from reconciler.sandbox.grants import drop_grants
from reconciler.sandbox.store import Doc
from reconciler.sandbox.vector_search import ENDPOINTS, INDEXES, load_endpoint, online_at

DELETING = "vs_indexes_deleting"
INDEX_NAME = re.compile(r"^[A-Za-z0-9_]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+$")
SUBTYPES = {"HYBRID", "FULL_TEXT"}
SPARK_TYPES = {"integer": "int", "long": "bigint", "short": "smallint", "byte": "tinyint"}
SERVES = ("vector_index",)
"""The asset kinds (address prefixes) these routes serve."""
router = Router()


def _index_status(req: Request, doc: Doc) -> Doc:
    endpoint = req.tx.get(ENDPOINTS, doc["endpoint_name"])
    ready_at = None
    if endpoint is not None and endpoint["id"] == doc["endpoint_id"]:
        endpoint_ready = online_at(endpoint)
        if endpoint_ready is not None:
            ready_at = max(float(doc["_created"]), endpoint_ready) + float(doc["_delay"])
    ready = ready_at is not None and req.now >= ready_at
    url = (
        f"{req.base_url}/api/2.0/vector-search/endpoints/{doc['endpoint_name']}"
        f"/indexes/{doc['name']}"
    )
    if doc["index_type"] == "DIRECT_ACCESS":
        online = "ONLINE_DIRECT_ACCESS"
    elif doc["delta_sync_index_spec"].get("pipeline_type") == "CONTINUOUS":
        online = "ONLINE_CONTINUOUS_UPDATE"
    elif req.now < float(doc.get("_sync_until", 0)):
        online = "ONLINE_TRIGGERED_UPDATE"
    else:
        online = "ONLINE_NO_PENDING_UPDATE"
    if ready_at is None:
        state, message = "OFFLINE", f"Endpoint {doc['endpoint_name']} is not available."
    elif ready:
        state, message = online, "Index is online."
    else:
        state, message = "PROVISIONING_INITIAL_SNAPSHOT", "Index creation is pending."
    return {
        "ready": ready,
        "detailed_state": state,
        "message": message,
        "indexed_row_count": int(doc.get("_rows", 0)) if ready else 0,
        "index_url": url,
    }


def index_info(req: Request, doc: Doc) -> Doc:
    out = public(doc)
    out["status"] = _index_status(req, doc)
    return out


def _load_index(req: Request, name: str) -> Doc:
    doc = req.tx.get(INDEXES, name)
    if doc is None:
        raise not_found(f"Vector search index {name} not found")
    return doc


def spark_type(name: str) -> str:
    """A column type as Unity Catalog stores it (``array<long>`` -> ``array<bigint>``)."""
    if name.startswith("array<") and name.endswith(">"):
        return f"array<{spark_type(name[len('array<') : -1])}>"
    return SPARK_TYPES.get(name, name)


def _schema_json(value: Any) -> str:
    try:
        schema = json.loads(value)
    except (TypeError, ValueError, RecursionError):
        raise invalid("direct_access_index_spec.schema_json must be a JSON object.") from None
    if not isinstance(schema, dict) or not all(isinstance(v, str) for v in schema.values()):
        raise invalid("direct_access_index_spec.schema_json must be a JSON object of column types.")
    normal = {k: spark_type(v) for k, v in sorted(schema.items())}
    return json.dumps(normal, separators=(",", ":"))


def _spec(req: Request, index_type: str | None) -> tuple[str, Doc]:
    if index_type == "DELTA_SYNC":
        spec = req.body.get("delta_sync_index_spec")
        if not isinstance(spec, dict) or not spec.get("source_table"):
            raise invalid("DELTA_SYNC indexes need delta_sync_index_spec.source_table.")
        spec = dict(spec)
        if spec.get("pipeline_type", "TRIGGERED") not in ("TRIGGERED", "CONTINUOUS"):
            raise invalid(f"Invalid pipeline_type {spec.get('pipeline_type')!r}.")
        if spec.get("columns_to_sync") and spec.get("columns_to_index"):
            raise invalid("Only one of columns_to_sync or columns_to_index may be given.")
        for column in spec.get("embedding_source_columns") or []:
            model = (
                column.get("embedding_model_endpoint_name") if isinstance(column, dict) else None
            )
            if model and req.tx.get("serving_endpoints", model) is None:
                raise invalid(f"Embedding model endpoint {model} does not exist.")
        spec["pipeline_id"] = str(uuid.uuid4())
        return "delta_sync_index_spec", spec
    if index_type == "DIRECT_ACCESS":
        spec = req.body.get("direct_access_index_spec")
        if not isinstance(spec, dict) or not spec.get("schema_json"):
            raise invalid("DIRECT_ACCESS indexes need direct_access_index_spec.schema_json.")
        spec = dict(spec, schema_json=_schema_json(spec["schema_json"]))
        return "direct_access_index_spec", spec
    raise invalid(f"Invalid index_type {index_type!r}; use DELTA_SYNC or DIRECT_ACCESS.")


@router.add("POST", "/api/2.0/vector-search/indexes", "vector_search_indexes.create_index")
def create_index(req: Request) -> Doc:
    name = req.str_field("name", required=True) or ""
    if not INDEX_NAME.match(name):
        raise invalid(
            "Invalid index name. Must specify the full index name <catalog>.<schema>.<table>."
            " Only alphanumerics and underscores are allowed."
        )
    if req.tx.get(INDEXES, name) is not None:
        raise already_exists(f"Vector search index with name {name} already exists")
    deleting = req.tx.get(DELETING, name)
    if deleting is not None and req.now < float(deleting["until"]):
        raise invalid(
            f"Index {name} is currently pending deletion. Operations on the index are not"
            " permitted while the index is being deleted."
        )
    endpoint = load_endpoint(req, req.str_field("endpoint_name", required=True) or "")
    primary_key = req.str_field("primary_key", required=True)
    subtype = req.str_field("index_subtype") or "HYBRID"
    if subtype not in SUBTYPES:
        raise invalid(f"Invalid index_subtype {subtype!r}; use HYBRID or FULL_TEXT.")
    index_type = req.str_field("index_type", required=True)
    spec_key, spec = _spec(req, index_type)
    doc: Doc = {
        "name": name,
        "endpoint_name": endpoint["name"],
        "endpoint_id": endpoint["id"],
        "primary_key": primary_key,
        "index_type": index_type,
        "index_subtype": subtype,
        "creator": SANDBOX_USER,
        spec_key: spec,
        "_created": req.now,
        "_delay": req.config.delays.index_ready + req.config.faults.slow_readiness,
    }
    req.tx.delete(DELETING, name)
    req.tx.put(INDEXES, name, doc)
    return index_info(req, doc)


@router.add("GET", "/api/2.0/vector-search/indexes", "vector_search_indexes.list_indexes")
def list_indexes(req: Request) -> Doc:
    endpoint_name = req.q("endpoint_name")
    if not endpoint_name:
        raise invalid("endpoint_name is required.")
    load_endpoint(req, endpoint_name)
    items = [
        {
            k: doc[k]
            for k in (
                "name",
                "endpoint_name",
                "endpoint_id",
                "index_type",
                "index_subtype",
                "primary_key",
                "creator",
            )
        }
        for _, doc in req.tx.scan(INDEXES)
        if doc["endpoint_name"] == endpoint_name
    ]
    return page(
        req, items, size=req.config.vs_page_size, key="vector_indexes", token=req.q("page_token")
    )


@router.add("GET", "/api/2.0/vector-search/indexes/{name}", "vector_search_indexes.get_index")
def get_index(req: Request) -> Doc:
    return index_info(req, _load_index(req, req.params["name"]))


@router.add("DELETE", "/api/2.0/vector-search/indexes/{name}", "vector_search_indexes.delete_index")
def delete_index(req: Request) -> None:
    doc = _load_index(req, req.params["name"])
    req.tx.delete(INDEXES, doc["name"])
    drop_grants(req.tx, "TABLE", doc["name"])
    until = req.now + req.config.delays.index_deletion + req.config.faults.slow_deletion
    req.tx.put(DELETING, doc["name"], {"until": until})


@router.add(
    "POST", "/api/2.0/vector-search/indexes/{name}/sync", "vector_search_indexes.sync_index"
)
def sync_index(req: Request) -> None:
    doc = _load_index(req, req.params["name"])
    spec = doc.get("delta_sync_index_spec")
    if doc["index_type"] != "DELTA_SYNC" or spec is None:
        raise invalid(f"Index {doc['name']} must be a Delta Sync Index to be synced.")
    if spec.get("pipeline_type") == "CONTINUOUS":
        raise invalid(f"Index {doc['name']} uses a CONTINUOUS pipeline; sync applies to TRIGGERED.")
    if not _index_status(req, doc)["ready"]:
        raise invalid_state(
            f"Index {doc['name']} is not ready yet; it cannot be synced until it is online."
        )
    doc["_sync_until"] = req.now + req.config.delays.index_ready
    doc["_syncs"] = int(doc.get("_syncs", 0)) + 1
    req.tx.put(INDEXES, doc["name"], doc)
