"""Per-target overrides: merged into the entries before validation, each value keeping the
file:line:col it was written at, conflicts named with both places."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from manifest.helpers import run_cli, write_project
from reconciler.manifest import load_desired_state, load_project
from reconciler.model.errors import ManifestError

PROJECT = """\
project: demo
default_target: dev
variables:
  catalog: {default: main}
  prod_only: {description: set for prod only}
targets:
  dev: {type: sandbox}
  prod:
    type: sandbox
    variables: {catalog: prod, prod_only: gold}
"""
BASE = """\
registered_models:
  - name: ${var.catalog}.s.m
    comment: base
    aliases: {champion: 1, challenger: 2}
serving_endpoints:
  - name: ep
    served_entities:
      - {name: a, entity: "${var.catalog}.s.m@champion", workload_size: Small}
      - {name: b, entity: "${var.catalog}.s.m@challenger", workload_size: Small}
    traffic: {a: 50, b: 50}
    tags: {team: ml, cost: cc-1}
    permissions:
      - {group: everyone, level: CAN_QUERY}
"""


def _desired(root: Path, target: str) -> dict[str, dict[str, Any]]:
    desired = load_desired_state(load_project(root), target)
    return {a: r.spec.doc() for a, r in desired.resources.items()}


def _project(tmp_path: Path, overrides: str = "", project: str = PROJECT) -> Path:
    return write_project(tmp_path / "p", {"manifests/m.yaml": BASE + overrides}, project)


def test_fields_merge_and_other_targets_keep_the_base(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        """\
targets:
  prod:
    registered_models:
      ${var.catalog}.s.m:
        aliases: {champion: 2}
    serving_endpoints:
      ep:
        served_entities:
          - {name: a, workload_size: Large}
          - {name: c, entity: "${var.catalog}.s.m@champion", workload_size: Small}
        traffic: {a: 80, c: 20}
        tags: {tier: "${var.prod_only}", cost: null}
        permissions:
          - {group: prod-readers, level: CAN_QUERY}
""",
    )
    dev = _desired(root, "dev")
    assert dev["registered_model.main.s.m"]["aliases"] == {"champion": 1, "challenger": 2}
    assert dev["serving_endpoint.ep"]["traffic"] == {"a": 50, "b": 50}
    prod = _desired(root, "prod")
    assert prod["model_alias.prod.s.m@champion"]["version"] == 2
    assert prod["model_alias.prod.s.m@challenger"]["version"] == 2, "mappings merge by key"
    ep = prod["serving_endpoint.ep"]
    assert [(e["name"], e["workload_size"]) for e in ep["served_entities"]] == [
        ("a", "Large"),
        ("b", "Small"),
        ("c", "Small"),
    ], "entries merge by name; a new name adds one"
    assert ep["served_entities"][0]["entity"] == "prod.s.m@champion"
    assert ep["traffic"] == {"a": 80, "c": 20}, "a traffic split is replaced whole"
    assert ep["tags"] == {"team": "ml", "tier": "gold"}, "null unsets a key"
    assert ep["permissions"] == [{"group": "prod-readers", "level": "CAN_QUERY"}]


def test_values_keep_the_place_they_were_written(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        """\
targets:
  prod:
    serving_endpoints:
      ep:
        served_entities:
          - {name: a, workload_type: TPU}
""",
    )
    with pytest.raises(ManifestError) as caught:
        load_desired_state(load_project(root), "prod")
    assert str(caught.value.location).endswith("manifests/m.yaml:19:38")
    assert "workload_type: Input should be 'CPU'" in str(caught.value)
    desired = load_desired_state(load_project(_project(tmp_path / "b")), "prod")
    where = desired.location_of("serving_endpoint.ep", "traffic.a")
    assert where is not None and (where.line, where.column) == (10, 18)


def test_project_file_overrides_are_interpolated_for_their_target(tmp_path: Path) -> None:
    project = PROJECT + (
        "    overrides:\n"
        "      registered_models:\n"
        "        ${var.catalog}.s.m: {comment: '${var.prod_only} model'}\n"
    )
    root = _project(tmp_path, project=project)
    assert _desired(root, "prod")["registered_model.prod.s.m"]["comment"] == "gold model"
    assert _desired(root, "dev")["registered_model.main.s.m"]["comment"] == "base"


def test_other_targets_sections_are_not_interpolated(tmp_path: Path) -> None:
    """``prod_only`` has no value on dev: its use in prod's section must not break dev."""
    root = _project(
        tmp_path,
        "targets:\n  prod:\n    serving_endpoints:\n      ep: {tags: {tier: '${var.prod_only}'}}\n",
    )
    assert "tier" not in _desired(root, "dev")["serving_endpoint.ep"]["tags"]


def test_two_overrides_of_one_field_name_both_places(tmp_path: Path) -> None:
    project = PROJECT + (
        "    overrides:\n      serving_endpoints:\n        ep: {tags: {cost: cc-9}}\n"
    )
    files = {
        "manifests/m.yaml": BASE,
        "manifests/prod.yaml": "targets:\n  prod:\n    serving_endpoints:\n"
        "      ep:\n        tags: {cost: cc-7}\n",
    }
    root = write_project(tmp_path / "p", files, project)
    out = run_cli(["validate", "-t", "prod"], cwd=root)
    assert out.exit_code == 1, out.stderr
    first = out.stderr.splitlines()[0]
    assert first.startswith("error: manifests/prod.yaml:5:16: serving endpoint 'ep':"), first
    assert "two overrides for this target set tags.cost: here and at reconciler.yaml:13:21" in first
    # A whole value and a field inside it overlap too.
    files["manifests/prod.yaml"] = (
        "targets:\n  prod:\n    serving_endpoints:\n      ep:\n"
        "        served_entities: [{name: a, workload_size: Large}]\n"
    )
    files["manifests/more.yaml"] = (
        "targets:\n  prod:\n    serving_endpoints:\n      ep:\n"
        "        served_entities: [{name: a, workload_size: Medium}]\n"
    )
    root = write_project(tmp_path / "q", files, PROJECT)
    out = run_cli(["validate", "-t", "prod"], cwd=root)
    assert out.exit_code == 1
    assert "two overrides for this target set served_entities.a.workload_size" in out.stderr
    assert "manifests/more.yaml:5:" in out.stderr and "manifests/prod.yaml:5:" in out.stderr


def test_the_name_cannot_be_overridden(tmp_path: Path) -> None:
    root = _project(tmp_path, "targets:\n  prod:\n    serving_endpoints:\n      ep: {name: ep2}\n")
    out = run_cli(["validate", "-t", "prod"], cwd=root)
    assert out.exit_code == 1
    assert out.stderr.startswith("error: manifests/m.yaml:17:12: serving endpoint 'ep': an")
    assert "cannot change the name" in out.stderr
