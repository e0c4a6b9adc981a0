"""JSON Schemas generated from the pydantic models, for editor completion and CI checks.

The files in ``schemas/`` are generated, checked in, and kept current by a test, so an
editor with the YAML language server validates manifests as they are typed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.kinds.manifest_file import ManifestFile
from reconciler.project import Project

SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"
_LOADER_ONLY_FIELDS = ("root", "cwd", "file", "positions", "file_sha256")


VARIABLE_REFERENCE = {
    "type": "string",
    "pattern": r"^\$\{var\.[A-Za-z_][A-Za-z0-9_]*\}$",
    "description": "A ${var.NAME} reference, replaced by the target's value.",
}


def _allow_variables(node: Any) -> Any:
    """Numbers, booleans and enums may also be written as one ``${var.NAME}`` (the value keeps
    its type), so editors must not flag them."""
    if isinstance(node, list):
        return [_allow_variables(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _allow_variables(value) for key, value in node.items()}
    if out.get("type") in ("integer", "number", "boolean") or "enum" in out:
        keep = {k: v for k, v in out.items() if k in ("title", "description", "default")}
        value = {k: v for k, v in out.items() if k not in keep}
        return {**keep, "anyOf": [value, VARIABLE_REFERENCE]}
    return out


def manifest_schema() -> dict[str, Any]:
    schema = _allow_variables(ManifestFile.model_json_schema(by_alias=True, mode="validation"))
    schema["title"] = "reconciler manifest"
    schema["description"] = (
        "One manifest file: top-level lists per asset kind. Strings may hold ${var.NAME}."
    )
    return {"$schema": SCHEMA_DRAFT, **schema}


def project_schema() -> dict[str, Any]:
    schema = Project.model_json_schema(by_alias=True, mode="validation")
    for name in _LOADER_ONLY_FIELDS:
        schema.get("properties", {}).pop(name, None)
    schema["title"] = "reconciler project file (reconciler.yaml)"
    return {"$schema": SCHEMA_DRAFT, **schema}


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated() -> dict[str, str]:
    """File name -> content of every generated schema."""
    return {
        "manifest.schema.json": render(manifest_schema()),
        "project.schema.json": render(project_schema()),
    }


def write(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generated().items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale(out_dir: Path) -> list[str]:
    """Names of schema files in ``out_dir`` that are missing or differ from the models."""
    out = []
    for name, text in generated().items():
        path = out_dir / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            out.append(name)
    return out
