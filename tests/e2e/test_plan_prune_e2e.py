"""Prune end to end: after an apply, assets that leave the manifests are planned for delete
only when the target prunes, only when this project marked them, dependents first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import cli
from reconciler.sandbox.config import Delays


def _run(project: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--project", str(project), *args])


def _plan(project: Path) -> dict[str, Any]:
    result = _run(project, "plan", "--format", "json")
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


@pytest.fixture
def applied(example_project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key, value in Delays.fast().__dict__.items():
        monkeypatch.setenv(f"RECONCILER_SANDBOX_DELAY_{key.upper()}", str(value))
    seeded = _run(example_project, "sandbox", "seed")
    assert seeded.exit_code == 0, seeded.output
    done = _run(example_project, "apply", "--auto-approve")
    assert done.exit_code == 0, done.output
    return example_project


def _prune(project: Path) -> None:
    config = project / "reconciler.yaml"
    text = config.read_text()
    assert "  sandbox:\n    type: sandbox\n" in text
    config.write_text(
        text.replace(
            "  sandbox:\n    type: sandbox\n", "  sandbox:\n    type: sandbox\n    prune: true\n"
        )
    )


def test_assets_that_left_the_manifests_are_deleted_only_with_prune(applied: Path) -> None:
    (applied / "manifests" / "serving.yaml").unlink()
    assert _plan(applied)["changes"] == []
    _prune(applied)
    doc = _plan(applied)
    assert [(c["address"], c["action"]) for c in doc["changes"]] == [
        ("serving_endpoint.support-intent", "delete")
    ]
    # The foundation model endpoint carrying our quota is not ours: never deleted.
    assert all("databricks-" not in c["address"] for c in doc["changes"])


def test_index_goes_before_its_endpoint(applied: Path) -> None:
    (applied / "manifests" / "vector_search.yaml").unlink()
    _prune(applied)
    doc = _plan(applied)
    deletes = [c["address"] for c in doc["changes"] if c["action"] == "delete"]
    index = "vector_index.main.support.docs_index"
    assert deletes == [index, "vector_search_endpoint.docs-vs"]
    endpoint = next(c for c in doc["changes"] if c["address"] == "vector_search_endpoint.docs-vs")
    assert f"it holds {index}, deleted before it by this plan" in endpoint["reason"]
    assert endpoint["depends_on"] == [index]
    text = _run(applied, "plan")
    assert "DESTRUCTIVE" in text.stdout and "--allow-delete" in text.stdout


def test_a_model_that_left_is_found_in_the_schemas_still_used(applied: Path) -> None:
    models = applied / "manifests" / "models.yaml"
    text = models.read_text()
    start = text.index("  - name: ${var.catalog}.support.ticket_summarizer")
    models.write_text(text[:start])
    _prune(applied)
    doc = _plan(applied)
    deletes = {c["address"]: c for c in doc["changes"] if c["action"] == "delete"}
    model = deletes["registered_model.main.support.ticket_summarizer"]
    assert "ALL its versions" in model["reason"]
    assert all(c["action"] == "delete" for c in doc["changes"])
