"""The workspace tree (``/api/2.0/workspace``): directories and files, enough for tools that keep
small state files in the workspace (the apply lock of Databricks targets).

``import`` with ``overwrite=false`` on an existing path answers RESOURCE_ALREADY_EXISTS, the one
compare-and-set the API offers. Notebooks are stored as files of type NOTEBOOK, never run.
"""

from __future__ import annotations

import base64
import posixpath

from reconciler.sandbox.api import ApiError, RawReply, Request, Router, invalid, not_found
from reconciler.sandbox.store import Doc

OBJECTS = "workspace_objects"
IMPLICIT_DIRS = {"/", "/Shared", "/Users", "/Workspace"}
NOTEBOOK_FORMATS = {"SOURCE", "JUPYTER", "HTML", "DBC", "R_MARKDOWN"}
router = Router()


def _path(req: Request, value: object) -> str:
    if not isinstance(value, str) or not value.startswith("/"):
        raise invalid(f"Path ({value}) must be absolute.")
    return posixpath.normpath(value) if value != "/" else "/"


def _get(req: Request, path: str) -> Doc | None:
    if path in IMPLICIT_DIRS:
        return {"object_type": "DIRECTORY", "object_id": 0, "path": path}
    return req.tx.get(OBJECTS, path)


def _info(path: str, doc: Doc) -> Doc:
    out: Doc = {"path": path, "object_type": doc["object_type"], "object_id": doc["object_id"]}
    for key in ("created_at", "modified_at", "size", "language"):
        if doc.get(key) is not None:
            out[key] = doc[key]
    out["resource_id"] = str(doc["object_id"])
    return out


def _missing(path: str) -> ApiError:
    return not_found(f"Path ({path}) doesn't exist.")


def _children(req: Request, path: str) -> list[tuple[str, Doc]]:
    prefix = path.rstrip("/") + "/"
    return [
        (key, doc)
        for key, doc in req.tx.scan(OBJECTS, prefix=prefix)
        if "/" not in key[len(prefix) :]
    ]


@router.add("POST", "/api/2.0/workspace/mkdirs", "workspace.mkdirs")
def mkdirs(req: Request) -> Doc:
    path = _path(req, req.body.get("path"))
    parts = [p for p in path.split("/") if p]
    current = ""
    for part in parts:
        current += "/" + part
        found = _get(req, current)
        if found is None:
            req.tx.put(
                OBJECTS,
                current,
                {"object_type": "DIRECTORY", "object_id": req.tx.next_id("workspace_object")},
            )
        elif found["object_type"] != "DIRECTORY":
            raise ApiError(
                400, "RESOURCE_ALREADY_EXISTS", f"Path ({current}) already exists and is a file."
            )
    return {}


@router.add("POST", "/api/2.0/workspace/import", "workspace.import_")
def import_(req: Request) -> Doc:
    path = _path(req, req.body.get("path"))
    try:
        content = base64.b64decode(str(req.body.get("content") or ""), validate=True)
    except ValueError:  # binascii.Error, or text that is not even ASCII
        raise invalid("content must be base64-encoded.") from None
    parent = _get(req, posixpath.dirname(path))
    if parent is None or parent["object_type"] != "DIRECTORY":
        raise not_found(f"The parent folder ({posixpath.dirname(path)}) does not exist.")
    existing = _get(req, path)
    if existing is not None and (
        existing["object_type"] == "DIRECTORY" or not req.body.get("overwrite")
    ):
        raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Path ({path}) already exists.")
    fmt = str(req.body.get("format") or "SOURCE")
    language = req.body.get("language")
    notebook = fmt in NOTEBOOK_FORMATS and language is not None
    doc: Doc = {
        "object_type": "NOTEBOOK" if notebook else "FILE",
        "object_id": existing["object_id"] if existing else req.tx.next_id("workspace_object"),
        "created_at": existing["created_at"] if existing else req.now_ms,
        "modified_at": req.now_ms,
        "size": len(content),
        "content": base64.b64encode(content).decode(),
    }
    if notebook:
        doc["language"] = language
    req.tx.put(OBJECTS, path, doc)
    return {}


@router.add("GET", "/api/2.0/workspace/export", "workspace.export")
def export(req: Request) -> Doc | RawReply:
    path = _path(req, req.q("path"))
    doc = _get(req, path)
    if doc is None:
        raise _missing(path)
    if doc["object_type"] == "DIRECTORY":
        raise invalid(f"Path ({path}) is a directory; export a file.")
    if req.q_bool("direct_download"):
        return RawReply(base64.b64decode(doc["content"]))
    return {"content": doc["content"], "file_type": posixpath.splitext(path)[1].lstrip(".")}


@router.add("GET", "/api/2.0/workspace/get-status", "workspace.get_status")
def get_status(req: Request) -> Doc:
    path = _path(req, req.q("path"))
    doc = _get(req, path)
    if doc is None:
        raise _missing(path)
    return _info(path, doc)


@router.add("GET", "/api/2.0/workspace/list", "workspace.list")
def list_(req: Request) -> Doc:
    path = _path(req, req.q("path"))
    doc = _get(req, path)
    if doc is None:
        raise _missing(path)
    if doc["object_type"] != "DIRECTORY":
        return {"objects": [_info(path, doc)]}
    return {"objects": [_info(key, child) for key, child in _children(req, path)]}


@router.add("POST", "/api/2.0/workspace/delete", "workspace.delete")
def delete(req: Request) -> Doc:
    path = _path(req, req.body.get("path"))
    if path in IMPLICIT_DIRS:
        raise ApiError(403, "PERMISSION_DENIED", f"Path ({path}) cannot be deleted.")
    doc = _get(req, path)
    if doc is None:
        raise _missing(path)
    below = req.tx.scan(OBJECTS, prefix=path.rstrip("/") + "/")
    if below and not req.body.get("recursive"):
        raise ApiError(
            400, "DIRECTORY_NOT_EMPTY", f"Folder ({path}) is not empty; pass recursive=true."
        )
    for key, _ in below:
        req.tx.delete(OBJECTS, key)
    req.tx.delete(OBJECTS, path)
    return {}
