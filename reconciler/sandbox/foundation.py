"""The pay-per-token foundation model endpoints every workspace already has.

They are created once per state directory, carry no project's owner tag, accept AI Gateway
changes (rate limits) but no config change, and cannot be deleted.
"""

from __future__ import annotations

import uuid

from reconciler.sandbox.store import Doc, Tx

FOUNDATION_MODELS = {
    "databricks-bge-large-en": ("BGE Large (En)", "llm/v1/embeddings"),
    "databricks-gte-large-en": ("GTE Large (En)", "llm/v1/embeddings"),
    "databricks-meta-llama-3-3-70b-instruct": ("Meta Llama 3.3 70B Instruct", "llm/v1/chat"),
}
_CREATED_MS = 1_700_000_000_000


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
    """Create the built-in endpoints in a new state directory (once: deleting stays deleted)."""
    if tx.get("meta", "bootstrapped") is not None:
        return
    for name in FOUNDATION_MODELS:
        doc = endpoint_doc(name)
        tx.put("serving_endpoints", name, doc)
        tx.put("serving_endpoint_ids", doc["id"], {"name": name})
    tx.put("meta", "bootstrapped", {"value": True})
