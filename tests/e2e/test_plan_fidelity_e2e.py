"""What plan and drift show is what is there: an explicit ``false`` reads ``false``, and a
changed secret reference is a visible diff (a fingerprint of each reference), never printing
the reference itself; a saved (sealed) plan of such a change still applies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from apply.e2e_helpers import edit, fast_sandbox, plan_exit, run, seed

SERVING = Path("manifests") / "serving.yaml"


@pytest.fixture
def project(example_project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    fast_sandbox(monkeypatch)
    seed(example_project)
    return example_project


def test_an_explicit_scale_to_zero_false_is_shown_as_false(project: Path) -> None:
    assert run(project, "apply", "--auto-approve").exit_code == 0
    edit(
        project / SERVING,
        "workload_size: Small\n        scale_to_zero: true",
        "workload_size: Small\n        scale_to_zero: false",
    )
    planned = run(project, "plan")
    assert "served_entities.champion.scale_to_zero: true → false" in planned.output
    drift = run(project, "drift")
    assert drift.exit_code == 2
    assert "scale_to_zero" in drift.output and "false" in drift.output
    assert "(none)" not in drift.output.split("scale_to_zero", 1)[1].splitlines()[0]
    assert run(project, "apply", "--auto-approve").exit_code == 0
    assert plan_exit(project)[0] == 0


def test_a_changed_secret_reference_is_a_visible_diff_never_printed(
    project: Path, tmp_path: Path
) -> None:
    edit(
        project / SERVING,
        "        workload_size: Small\n",
        "        workload_size: Small\n        environment_vars:\n"
        "          API_KEY: '{{secrets/support/key-a}}'\n",
    )
    assert run(project, "apply", "--auto-approve").exit_code == 0
    assert plan_exit(project)[0] == 0
    edit(project / SERVING, "key-a", "key-b")
    planned = run(project, "plan")
    assert "secrets/" not in planned.output and "key-b" not in planned.output
    found = re.search(
        r'environment_vars: \{"API_KEY": "\(secret ([0-9a-f]{6})\)"\} → '
        r'\{"API_KEY": "\(secret ([0-9a-f]{6})\)"\}',
        planned.output,
    )
    assert found is not None, planned.output
    assert found.group(1) != found.group(2)
    # A saved plan carries the fingerprints and seals the reference; applying it works.
    saved = tmp_path / "plan.json"
    assert run(project, "plan", "-o", str(saved)).exit_code == 0
    assert "secrets/" not in saved.read_text()
    applied = run(project, "apply", str(saved))
    assert applied.exit_code == 0, applied.output
    assert plan_exit(project)[0] == 0
