"""Reads are as robust as writes: one 500, 503 or dropped connection on any call no longer
aborts plan or apply (the CLI against the sandbox's injected faults)."""

from __future__ import annotations

from pathlib import Path

import pytest
from apply.e2e_helpers import fast_sandbox, plan_exit, run, seed

READ_FAULTS = ",".join(
    [
        "serving_endpoints.get=500x1",
        "registered_models.get=503x1",
        "vector_search_indexes.get_index=dropx1",
        "vector_search_endpoints.list_endpoints=500x1",
        "model_versions.get=dropx1",
    ]
)
WRITE_FAULTS = ",".join(
    [
        "serving_endpoints.create=lostx1",
        "registered_models.create=500x1",
        "vector_search_endpoints.create_endpoint=dropx1",
        "vector_search_indexes.create_index=500x1",
        "registered_models.set_alias=503x1",
        "serving_endpoints.put_ai_gateway=500x1",
        "serving_endpoints.patch=dropx1",
    ]
)


def test_plan_survives_one_fault_on_each_read(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_sandbox(monkeypatch)
    seed(example_project)
    monkeypatch.setenv("RECONCILER_SANDBOX_FAIL_OPERATIONS", READ_FAULTS)
    code, output = plan_exit(example_project)
    assert code == 2, output  # everything to create, read despite the faults
    assert "Plan: " in output


def test_apply_survives_faults_on_writes_and_creates_nothing_twice(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_sandbox(monkeypatch)
    seed(example_project)
    monkeypatch.setenv("RECONCILER_SANDBOX_FAIL_OPERATIONS", WRITE_FAULTS + "," + READ_FAULTS)
    result = run(example_project, "apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output
    monkeypatch.delenv("RECONCILER_SANDBOX_FAIL_OPERATIONS")
    assert plan_exit(example_project)[0] == 0
