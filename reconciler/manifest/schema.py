"""JSON Schemas generated from the pydantic models, for editor completion and CI checks.

The files in ``schemas/`` are generated, checked in, and kept current by a test, so an
editor with the YAML language server validates manifests as they are typed.

A spec field's description is the docstring written under it. Pydantic can read those itself
(``use_attribute_docstrings``), but it does so for every model as it is defined, by walking
stack frames and source files: a fifth of ``validate``'s start-up, for text only schemas show.
So they are read here, when a schema is generated.
"""

from __future__ import annotations

import ast
import inspect
import json
import textwrap
import typing
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import BaseModel

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


@cache
def attribute_docstrings(cls: type) -> dict[str, str]:
    """``field -> the string literal right under it`` in the class body (its own source)."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    tree = ast.parse(source)
    body = next((n.body for n in tree.body if isinstance(n, ast.ClassDef)), [])
    out = {}
    for node, after in pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            out[node.target.id] = inspect.cleandoc(after.value.value)
    return out


def _models_under(model: type[BaseModel], seen: list[type[BaseModel]]) -> None:
    """``model`` and every model its fields hold, children first."""
    if model in seen:
        return
    for field in model.model_fields.values():
        for tp in _types_in(field.annotation):
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                _models_under(tp, seen)
    seen.append(model)


def _types_in(annotation: Any) -> list[Any]:
    args = typing.get_args(annotation)
    return [annotation] if not args else [t for arg in args for t in _types_in(arg)]


@cache
def _describe_fields() -> None:
    """Set each field's description from its docstring (pydantic's rule: an explicit
    ``description`` wins), rebuilding models children first so parents embed the result."""
    models: list[type[BaseModel]] = []
    _models_under(ManifestFile, models)
    for model in models:
        docs: dict[str, str] = {}
        for cls in reversed(model.__mro__):
            if isinstance(cls, type) and issubclass(cls, BaseModel) and cls is not BaseModel:
                docs.update(attribute_docstrings(cls))
        for name, field in model.model_fields.items():
            if field.description is None and name in docs:
                field.description = docs[name]
        model.model_rebuild(force=True)


def _with_overrides(schema: dict[str, Any]) -> dict[str, Any]:
    """``targets:`` as editors should see it: per target, per kind, per asset name, the fields
    of that kind's entry, none of them required (an override says only what differs)."""
    defs = schema.setdefault("$defs", {})
    kinds: dict[str, Any] = {}
    for key, prop in schema.get("properties", {}).items():
        ref = (prop.get("items") or {}).get("$ref", "")
        if not ref.startswith("#/$defs/"):
            continue
        name = ref.rsplit("/", 1)[-1]
        partial = {k: v for k, v in defs[name].items() if k != "required"}
        defs[f"{name}Override"] = partial
        kinds[key] = {
            "type": "object",
            "description": f"{key} by name: the fields that differ on this target",
            "additionalProperties": {"$ref": f"#/$defs/{name}Override"},
        }
    targets = schema.get("properties", {}).get("targets")
    if targets is not None:
        targets["additionalProperties"] = {
            "type": "object",
            "properties": kinds,
            "additionalProperties": False,
        }
    return schema


def manifest_schema() -> dict[str, Any]:
    _describe_fields()
    schema = _allow_variables(ManifestFile.model_json_schema(by_alias=True, mode="validation"))
    schema = _with_overrides(schema)
    schema["title"] = "reconciler manifest"
    schema["description"] = (
        "One manifest file: top-level lists per asset kind, and per-target overrides."
        " Strings may hold ${var.NAME}."
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
