"""A registered model's ``storage_location`` end to end on the sandbox: set at creation, compared
only when the manifest sets it (the backend fills one in otherwise), and a change is a replace
that says what it costs, refused without --allow-delete."""

from __future__ import annotations

from pathlib import Path

import pytest
from apply.e2e_helpers import edit, fast_sandbox, live_client, plan_exit, run, seed

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
