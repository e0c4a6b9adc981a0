"""What every workspace already has: the pay-per-token foundation model endpoints, and the
foundation models of the ``system.ai`` schema that provisioned throughput endpoints serve.

The endpoints are created once per state directory, carry no project's owner tag, accept AI
Gateway changes (rate limits) but no config change, and cannot be deleted. The ``system.ai``
models are Unity Catalog models with READY versions; each has a throughput chunk size (its
optimization info, in ``optimization``).
"""

from __future__ import annotations

import uuid

from reconciler.sandbox.store import Doc, Tx
from reconciler.sandbox.unity_catalog import METASTORE_ID, MODELS, VERSIONS, version_key

FOUNDATION_MODELS = {
    "databricks-bge-large-en": ("BGE Large (En)", "llm/v1/embeddings"),
    "databricks-gte-large-en": ("GTE Large (En)", "llm/v1/embeddings"),
    "databricks-meta-llama-3-3-70b-instruct": ("Meta Llama 3.3 70B Instruct", "llm/v1/chat"),
}
_CREATED_MS = 1_700_000_000_000
SYSTEM_AI_MODELS = {
    "system.ai.meta_llama_v3_1_8b_instruct": (3, 1850),
    "system.ai.meta_llama_v3_3_70b_instruct": (2, 950),
    "system.ai.gte_large_en_v1_5": (2, 8000),
}
"""``system.ai`` model -> (how many READY versions, throughput chunk size in tokens/s). The
chunk sizes are the sandbox's own figures; a workspace answers its own."""
SYSTEM_USER = "system"


def endpoint_doc(name: str) -> Doc:
    display, task = FOUNDATION_MODELS[name]
    entity: Doc = {
        "name": name,
        "foundation_model": {
            "name": name,
            "display_name": display,
            "description": f"{display}, served pay-per-token by Databricks.",
            "docs": "https://docs.databricks.com/machine-learning/foundation-models/",
        },
        "creation_timestamp": _CREATED_MS,
        "creator": "system",
    }
    return {
        "name": name,
        "id": uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox/{name}").hex,
        "creator": "system",
        "creation_timestamp": _CREATED_MS,
        "last_updated_timestamp": _CREATED_MS,
        "task": task,
        "tags": [],
        "config": {
            "config_version": 1,
            "served_entities": [entity],
            "traffic_config": {
                "routes": [
                    {
                        "served_entity_name": name,
                        "served_model_name": name,
                        "traffic_percentage": 100,
                    }
                ]
            },
        },
        "_update": "NOT_UPDATING",
        "_ready_at": 0,
        "_foundation": True,
        "_config_versions": 1,
    }


def bootstrap(tx: Tx) -> None:
    """Create the built-in endpoints in a new state directory (once: deleting stays deleted),
    and the ``system.ai`` models (also in state directories made before they existed)."""
    if tx.get("meta", "system_ai_models") is None:
        for full_name, (versions, chunk) in SYSTEM_AI_MODELS.items():
            _system_model(tx, full_name, versions, chunk)
        tx.put("meta", "system_ai_models", {"value": True})
    if tx.get("meta", "bootstrapped") is not None:
        return
    for name in FOUNDATION_MODELS:
        doc = endpoint_doc(name)
        tx.put("serving_endpoints", name, doc)
        tx.put("serving_endpoint_ids", doc["id"], {"name": name})
    tx.put("meta", "bootstrapped", {"value": True})


def _system_model(tx: Tx, full_name: str, versions: int, chunk: int) -> None:
    catalog, schema, name = full_name.split(".")
    model_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox/{full_name}"))
    audit = {
        "created_at": _CREATED_MS,
        "created_by": SYSTEM_USER,
        "updated_at": _CREATED_MS,
        "updated_by": SYSTEM_USER,
    }
    location = f"s3://sandbox-metastore/{catalog}/{schema}/models/{model_id}"
    model: Doc = {
        "full_name": full_name,
        "catalog_name": catalog,
        "schema_name": schema,
        "name": name,
        "owner": SYSTEM_USER,
        "comment": f"Databricks foundation model {name}",
        "storage_location": location,
        "metastore_id": METASTORE_ID,
        "id": model_id,
        **audit,
        "browse_only": False,
        "_aliases": {},
        "_tags": {},
        "_next_version": versions + 1,
        "_throughput_chunk_size": chunk,
    }
    tx.put(MODELS, full_name, model)
    for number in range(1, versions + 1):
        version: Doc = {
            "model_name": name,
            "catalog_name": catalog,
            "schema_name": schema,
            "version": number,
            "source": f"dbfs:/databricks/foundation-models/{name}/{number}",
            "status": "READY",
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox/{full_name}/{number}")),
            "storage_location": f"{location}/versions/{number}",
            "metastore_id": METASTORE_ID,
            **audit,
            "_tags": {},
        }
        tx.put(VERSIONS, version_key(full_name, number), version)
