"""Sandbox-only routes under ``/sandbox``: no real workspace has them.

* ``GET/POST /sandbox/faults``: read or change the fault settings (body: any ``Faults`` fields).
* ``POST /sandbox/model-versions/status``: ``{"full_name", "version", "status"}`` forces a
  version's status, e.g. FAILED_REGISTRATION, as a broken training pipeline would leave it.
* ``GET /sandbox/health``: liveness.
"""

from __future__ import annotations

from reconciler.sandbox.api import Request, Router, invalid
from reconciler.sandbox.store import Doc
from reconciler.sandbox.unity_catalog import (
    STATUSES,
    VERSIONS,
    load_model,
    load_version,
    version_info,
    version_key,
)

router = Router()


@router.add("GET", "/sandbox/health", "sandbox.health", control=True)
def health(req: Request) -> Doc:
    return {"status": "ok"}


@router.add("POST", "/sandbox/model-versions/status", "sandbox.set_version_status", control=True)
def set_version_status(req: Request) -> Doc:
    full_name = req.str_field("full_name", required=True) or ""
    status = req.str_field("status", required=True)
    if status not in STATUSES:
        raise invalid(f"status must be one of {', '.join(sorted(STATUSES))}.")
    version = req.body.get("version")
    if not isinstance(version, int):
        raise invalid("version must be an integer.")
    model = load_model(req, full_name)
    doc = load_version(req, model["full_name"], version)
    doc["status"] = status
    doc["updated_at"] = req.now_ms
    req.tx.put(VERSIONS, version_key(model["full_name"], version), doc)
    return version_info(model, doc)
