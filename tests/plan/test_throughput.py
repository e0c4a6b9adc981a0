"""Provisioned throughput bounds are multiples of the model's throughput chunk size, read from
its optimization info at plan time; an error names the field's line and the chunk size."""

from __future__ import annotations

from pathlib import Path

import pytest

from plan.helpers import desired_state, live_state, ready
from reconciler.model.errors import PlanError
from reconciler.model.live import OptimizationInfo
from reconciler.plan.planner import build_plan

LLAMA = "system.ai.meta_llama_v3_1_8b_instruct"


def _endpoint(**entity: int) -> dict[str, object]:
    return {
        "serving_endpoints": [
            {
                "name": "llm",
                "served_entities": [{"name": "llama", "entity": LLAMA, "version": 3, **entity}],
            }
        ]
    }


def _plan(root: Path, manifests: dict[str, object], info: OptimizationInfo | None):  # type: ignore[no-untyped-def]
    desired, target = desired_state(root, manifests)
    live = live_state(versions=ready(LLAMA, 3))
    if info is not None:
        live.optimizations[(LLAMA, 3)] = info
    return build_plan(desired, live, target)


def test_multiples_of_the_chunk_size_plan_a_create(tmp_path: Path) -> None:
    info = OptimizationInfo(LLAMA, 3, optimizable=True, chunk_size=1850)
    plan = _plan(
        tmp_path, _endpoint(min_provisioned_throughput=0, max_provisioned_throughput=3700), info
    )
    (change,) = plan.changes
    assert change.desired is not None
    assert change.desired["served_entities"][0]["max_provisioned_throughput"] == 3700


def test_a_bound_off_the_chunk_size_is_an_error_at_its_line(tmp_path: Path) -> None:
    info = OptimizationInfo(LLAMA, 3, optimizable=True, chunk_size=1850)
    manifests = _endpoint(min_provisioned_throughput=1850, max_provisioned_throughput=4000)
    with pytest.raises(PlanError) as caught:
        _plan(tmp_path, manifests, info)
    error = caught.value
    assert "max_provisioned_throughput 4000 is not a multiple" in error.message
    assert "which is 1850 tokens per second" in error.message
    assert error.location is not None
    assert error.location.file.endswith("manifests/main.yaml")
    lines = (tmp_path / "manifests" / "main.yaml").read_text().splitlines()
    assert lines[error.location.line - 1].strip() == "max_provisioned_throughput: 4000"
    assert error.hint == "use a multiple of 1850, e.g. 3700 or 5550"


def test_a_model_that_is_not_optimizable_is_an_error(tmp_path: Path) -> None:
    for info in (OptimizationInfo(LLAMA, 3, optimizable=False), None):
        with pytest.raises(PlanError, match="cannot be served with provisioned throughput"):
            _plan(tmp_path, _endpoint(max_provisioned_throughput=1850), info)


def test_model_units_need_no_chunk_size(tmp_path: Path) -> None:
    plan = _plan(tmp_path, _endpoint(provisioned_model_units=50), None)
    (change,) = plan.changes
    assert change.desired is not None
    assert change.desired["served_entities"][0]["provisioned_model_units"] == 50
