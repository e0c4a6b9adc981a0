"""The checked-in JSON Schemas match the models, and accept the example manifests."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from manifest.helpers import run_cli
from reconciler.manifest import schema

REPO = Path(__file__).resolve().parents[2]


def test_checked_in_schemas_are_current() -> None:
    assert schema.stale(REPO / "schemas") == [], "run `make schema` and commit schemas/"


def test_schema_cli_writes_and_checks(tmp_path: Path) -> None:
    out = run_cli(["schema", "--out", str(tmp_path), "--check"], cwd=tmp_path)
    assert out.exit_code == 1
    assert "manifest.schema.json, project.schema.json" in out.stderr
    assert run_cli(["schema", "--out", str(tmp_path)], cwd=tmp_path).exit_code == 0
    again = run_cli(["schema", "--out", str(tmp_path), "--check"], cwd=tmp_path)
    assert again.exit_code == 0, again.stderr


def test_example_manifests_match_the_schema() -> None:
    manifest_schema = json.loads((REPO / "schemas" / "manifest.schema.json").read_text())
    for path in sorted((REPO / "manifests").glob("*.yaml")):
        text = path.read_text()
        assert text.startswith("# yaml-language-server: $schema=../schemas/manifest.schema.json")
        jsonschema.validate(yaml.safe_load(text), manifest_schema)
    project_schema = json.loads((REPO / "schemas" / "project.schema.json").read_text())
    jsonschema.validate(yaml.safe_load((REPO / "reconciler.yaml").read_text()), project_schema)


def test_schema_rejects_unknown_fields() -> None:
    manifest_schema = schema.manifest_schema()
    bad = {"registered_models": [{"name": "a.b.c", "colour": "red"}]}
    validator = jsonschema.Draft202012Validator(manifest_schema)
    assert list(validator.iter_errors(bad))


def test_schema_accepts_variable_references_in_typed_fields() -> None:
    validator = jsonschema.Draft202012Validator(schema.manifest_schema())
    with_vars = {
        "registered_models": [{"name": "${var.c}.s.m", "aliases": {"champion": "${var.v}"}}],
        "vector_search_endpoints": [{"name": "vs", "type": "${var.vs_type}"}],
    }
    assert list(validator.iter_errors(with_vars)) == []
    wrong = {
        "registered_models": [{"name": "c.s.m", "aliases": {"champion": "four"}}],
        "vector_search_endpoints": [{"name": "vs", "type": "FAST"}],
    }
    assert len(list(validator.iter_errors(wrong))) == 2
