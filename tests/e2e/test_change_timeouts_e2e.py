"""A kind's timeout, set on the target in reconciler.yaml, bounds its changes; the run's
``--change-timeout`` wins over it. An index replace waits out a 6 s pending-deletion window."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from apply.e2e_helpers import edit, fast_sandbox, plan_exit, run, seed

INDEX = """  - name: ${var.catalog}.support.faq_index
    endpoint: docs-vs
    primary_key: id
    direct_access:
      schema: {id: long, title: string, embedding: array<float>}
      embedding_vector_columns: [{name: embedding, dimension: 4}]
"""


def test_target_timeouts_bound_a_kind_and_the_run_overrides_them(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_sandbox(monkeypatch)
    config = yaml.safe_load((example_project / "reconciler.yaml").read_text())
    config["targets"]["sandbox"]["timeouts"] = {"vector_index": "2s"}
    (example_project / "reconciler.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    search = example_project / "manifests" / "vector_search.yaml"
    edit(search, "vector_indexes:\n", "vector_indexes:\n" + INDEX)
    seed(example_project)
    assert run(example_project, "apply", "--auto-approve").exit_code == 0
    monkeypatch.setenv("RECONCILER_SANDBOX_SLOW_DELETION", "6")
    edit(search, "title: string,", "title: string, lang: string,")
    cut = run(example_project, "apply", "--auto-approve", "--allow-delete")
    assert cut.exit_code == 1
    assert "still pending deletion" in cut.output
    again = run(
        example_project,
        "apply",
        "--auto-approve",
        "--allow-delete",
        "--change-timeout",
        "vector_index=2m",
    )
    assert again.exit_code == 0, again.output
    assert plan_exit(example_project)[0] == 0
