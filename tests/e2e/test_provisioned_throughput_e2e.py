"""Provisioned throughput end to end on the sandbox: a ``system.ai`` foundation model served
with throughput bounds (multiples of its chunk size, read from the optimization info at plan
time) and one sized in model units; create, change, re-plan empty; a bound off the chunk size is
an error at its line naming the chunk size, and nothing is applied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from apply.e2e_helpers import edit, fast_sandbox, live_client, live_entities, plan_exit, run, seed

PT = """
  - name: support-llm
    served_entities:
      - name: llama
        entity: system.ai.meta_llama_v3_1_8b_instruct
        version: 3
        min_provisioned_throughput: 0
        max_provisioned_throughput: 3700
        scale_to_zero: true

  - name: support-embed
    served_entities:
      - name: gte
        entity: system.ai.gte_large_en_v1_5
        version: 2
        provisioned_model_units: 10
"""


def _entity(project: Path, endpoint: str) -> dict[str, Any]:
    with live_client(project) as client:
        info = client.api_client.do(
            "GET",
            "/api/2.0/serving-endpoints/get-model-optimization-info/"
            "system.ai.meta_llama_v3_1_8b_instruct/3",
        )
    assert info == {"optimizable": True, "throughput_chunk_size": 1850}
    (entity,) = live_entities(project, endpoint).values()
    return entity


def test_throughput_and_model_units_converge(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_sandbox(monkeypatch)
    serving = example_project / "manifests" / "serving.yaml"
    serving.write_text(serving.read_text() + PT)
    seed(example_project)
    created = run(example_project, "apply", "--auto-approve")
    assert created.exit_code == 0, created.output
    llama = _entity(example_project, "support-llm")
    assert (llama["min_provisioned_throughput"], llama["max_provisioned_throughput"]) == (0, 3700)
    assert _entity(example_project, "support-embed")["provisioned_model_units"] == 10
    code, output = plan_exit(example_project)
    assert code == 0, output

    edit(serving, "max_provisioned_throughput: 3700", "max_provisioned_throughput: 5550")
    edit(serving, "provisioned_model_units: 10", "provisioned_model_units: 20")
    code, output = plan_exit(example_project)
    assert code == 2, output
    assert "served_entities.llama.max_provisioned_throughput: 3700 → 5550" in output
    assert "served_entities.gte.provisioned_model_units: 10 → 20" in output
    changed = run(example_project, "apply", "--auto-approve")
    assert changed.exit_code == 0, changed.output
    assert _entity(example_project, "support-llm")["max_provisioned_throughput"] == 5550
    assert _entity(example_project, "support-embed")["provisioned_model_units"] == 20
    code, output = plan_exit(example_project)
    assert code == 0, output

    edit(serving, "max_provisioned_throughput: 5550", "max_provisioned_throughput: 4000")
    lines = serving.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "max_provisioned_throughput: 4000" in text)
    for command in (("plan",), ("apply", "--auto-approve")):
        refused = run(example_project, *command)
        assert refused.exit_code == 1, refused.output
        assert f"manifests/serving.yaml:{line}:37: serving_endpoint.support-llm:" in (
            refused.output
        )
        assert "max_provisioned_throughput 4000 is not a multiple of the throughput chunk" in (
            refused.output
        )
        assert "which is 1850 tokens per second" in refused.output
    assert _entity(example_project, "support-llm")["max_provisioned_throughput"] == 5550
