"""A registered model's ``storage_location`` end to end on the sandbox: set at creation, compared
only when the manifest sets it (the backend fills one in otherwise), and a change is a replace
that says what it costs, refused without --allow-delete."""

from __future__ import annotations

from pathlib import Path

import pytest
from apply.e2e_helpers import edit, fast_sandbox, live_client, plan_exit, run, seed

from reconciler.adapters.databricks.intents import list_intents, record_intent

MODEL = "main.support.reranker"
FIRST, SECOND = "s3://ml-models/support/reranker", "s3://ml-models-eu/support/reranker"


def _location(project: Path) -> str | None:
    with live_client(project) as client:
        return client.registered_models.get(MODEL).storage_location


def test_storage_location_is_set_at_creation_and_a_change_replaces(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_sandbox(monkeypatch)
    models = example_project / "manifests" / "models.yaml"
    models.write_text(
        models.read_text()
        + f"\n  - name: {MODEL}\n    comment: Reranks retrieved docs\n"
        + f"    storage_location: {FIRST}\n"
    )
    seed(example_project)
    created = run(example_project, "apply", "--auto-approve")
    assert created.exit_code == 0, created.output
    assert _location(example_project) == FIRST
    code, output = plan_exit(example_project)
    assert code == 0, output

    edit(models, FIRST, SECOND)
    code, output = plan_exit(example_project)
    assert code == 2, output
    assert f"registered_model.{MODEL} (replace)" in output
    assert "reason: storage_location cannot change in place" in output
    assert "deleted with ALL its versions" in output
    refused = run(example_project, "apply", "--auto-approve")
    assert refused.exit_code == 1 and "--allow-delete" in refused.output
    assert _location(example_project) == FIRST
    replaced = run(example_project, "apply", "--auto-approve", "--allow-delete")
    assert replaced.exit_code == 0, replaced.output
    assert _location(example_project) == SECOND
    with live_client(example_project) as client:
        assert client.registered_models.get(MODEL).comment == "Reranks retrieved docs"
    code, output = plan_exit(example_project)
    assert code == 0, output

    # Left out of the manifest: the backend's location is not managed, not a change.
    edit(models, f"    storage_location: {SECOND}\n", "")
    code, output = plan_exit(example_project)
    assert code == 0, output


def test_a_create_stopped_before_its_marker_is_owned_by_its_intent(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The create that takes a storage location takes no tags: an intent record covers the
    instant before the marker. As if apply died right after the create: the next plan owns
    the model through the intent and writes the marker; the intent goes."""
    fast_sandbox(monkeypatch)
    models = example_project / "manifests" / "models.yaml"
    models.write_text(models.read_text() + f"\n  - name: {MODEL}\n    storage_location: {FIRST}\n")
    seed(example_project)
    with live_client(example_project) as client:
        record_intent(client, f"registered_model.{MODEL}", "support-assistant")
        client.registered_models.create(
            catalog_name="main", schema_name="support", name="reranker", storage_location=FIRST
        )
    code, output = plan_exit(example_project)
    assert code == 2, output
    assert f"registered_model.{MODEL} (update)" in output
    assert 'tags.reconciler.project: (none) → "support-assistant"' in output
    applied = run(example_project, "apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    with live_client(example_project) as client:
        tags = client.api_client.do(
            "GET", "/api/2.1/unity-catalog/securable-tags/FUNCTION/" + MODEL
        )
        assert isinstance(tags, dict)
        assert {"key": "reconciler.project", "value": "support-assistant"} in tags["tags"]
        assert list_intents(client) == []
    code, output = plan_exit(example_project)
    assert code == 0, output
