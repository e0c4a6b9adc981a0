"""Served-entity fields end to end on the sandbox: create, change, re-plan empty.

``instance_profile_arn`` round-trips; ``burst_scaling_enabled`` is accepted on write and never
returned by GET (a write-only rule), so a plan after apply is empty whether or not it is echoed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from apply.e2e_helpers import edit, fast_sandbox, live_entities, plan_exit, run, seed

ARN = "arn:aws:iam::123456789012:instance-profile/serving"
OTHER_ARN = "arn:aws:iam::123456789012:instance-profile/serving-v2"


def _champion(project: Path) -> dict[str, Any]:
    return live_entities(project, "support-intent")["champion"]


def test_instance_profile_and_burst_scaling_converge(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_sandbox(monkeypatch)
    serving = example_project / "manifests" / "serving.yaml"
    edit(
        serving,
        "        workload_size: Small\n",
        f"        workload_size: Small\n        instance_profile_arn: {ARN}\n"
        "        burst_scaling_enabled: true\n",
    )
    seed(example_project)
    created = run(example_project, "apply", "--auto-approve")
    assert created.exit_code == 0, created.output
    entity = _champion(example_project)
    assert entity["instance_profile_arn"] == ARN
    assert "burst_scaling_enabled" not in entity  # accepted, never returned
    code, output = plan_exit(example_project)
    assert code == 0, output

    edit(serving, ARN, OTHER_ARN)
    code, output = plan_exit(example_project)
    assert code == 2, output
    assert "instance_profile_arn" in output and OTHER_ARN in output
    assert "burst_scaling_enabled" not in output
    changed = run(example_project, "apply", "--auto-approve")
    assert changed.exit_code == 0, changed.output
    assert _champion(example_project)["instance_profile_arn"] == OTHER_ARN
    code, output = plan_exit(example_project)
    assert code == 0, output

    # Never returned, never compared: flipping it is not a change anyone could see.
    edit(serving, "burst_scaling_enabled: true", "burst_scaling_enabled: false")
    code, output = plan_exit(example_project)
    assert code == 0, output
