"""Property: for generated manifest sets and random fault schedules, apply then plan is empty.

Each example applies two generated states in a row on one fresh sandbox (so creates, updates
and replaces all occur), with transient faults injected into the write calls.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from apply.e2e_helpers import FAST_DELAYS
from apply.strategies import served_entity, versions
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from reconciler.adapters.databricks.client import ClientSettings, sandbox_client
from reconciler.commands.apply import ApplyRequest, run_apply
from reconciler.commands.plan import make_plan
from reconciler.manifest import load_project
from reconciler.runtime.context import NullProgress, ProgressSink
from reconciler.runtime.settings import ApplySettings
from reconciler.sandbox import SandboxConfig, SandboxServer, register_versions_up_to

MODELS = ["main.s.alpha", "main.s.beta"]
LLAMA = "databricks-meta-llama-3-3-70b-instruct"
WRITE_OPS = [
    "registered_models.update",
    "registered_models.set_alias",
    "serving_endpoints.create",
    "serving_endpoints.update_config",
    "serving_endpoints.put_ai_gateway",
    "serving_endpoints.patch",
    "vector_search_endpoints.create_endpoint",
    "vector_search_indexes.create_index",
    "securable_tags.update",
]


@st.composite
def manifests(draw: st.DrawFn) -> dict[str, Any]:
    models = []
    aliases_of: dict[str, dict[str, int]] = {}
    for name in MODELS[: draw(st.integers(1, 2))]:
        aliases = draw(st.dictionaries(st.sampled_from(["champion", "challenger"]), versions))
        aliases_of[name] = aliases
        model: dict[str, Any] = {"name": name, "aliases": aliases}
        if draw(st.booleans()):
            model["comment"] = draw(st.sampled_from(["first", "second"]))
        if draw(st.booleans()):
            model["tags"] = {"team": draw(st.sampled_from(["a", "b"]))}
        models.append(model)
    doc: dict[str, Any] = {"registered_models": models}
    if draw(st.booleans()):
        model = MODELS[0]
        entities = []
        for name in ["champion", "challenger"][: draw(st.integers(1, 2))]:
            by_alias = name in aliases_of[model]
            entities.append(draw(served_entity(name, model, by_alias=by_alias)))
        endpoint: dict[str, Any] = {"name": "ep", "served_entities": entities}
        if len(entities) == 2:
            share = draw(st.sampled_from([10, 50, 90]))
            endpoint["traffic"] = {"champion": share, "challenger": 100 - share}
        if draw(st.booleans()):
            endpoint["ai_gateway"] = {"usage_tracking": draw(st.booleans())}
        if draw(st.booleans()):
            endpoint["tags"] = {"tier": draw(st.sampled_from(["1", "2"]))}
        doc["serving_endpoints"] = [endpoint]
    if draw(st.booleans()):
        limits = [{"key": "endpoint", "calls_per_minute": draw(st.sampled_from([100, 1000]))}]
        if draw(st.booleans()):
            limits.append(
                {
                    "key": "user_group",
                    "principal": "agents",
                    "tokens_per_minute": draw(st.sampled_from([500, 5000])),
                }
            )
        doc["quotas"] = [{"endpoint": LLAMA, "rate_limits": limits}]
    if draw(st.booleans()):
        doc["vector_search_endpoints"] = [
            {"name": "vs", "tags": {"k": draw(st.sampled_from(["x", "y"]))}}
        ]
        doc["vector_indexes"] = [
            {
                "name": "main.s.idx",
                "endpoint": "vs",
                "primary_key": draw(st.sampled_from(["id", "key"])),
                "direct_access": {"schema": {"id": "integer", "key": "string"}},
            }
        ]
    return doc


faults = st.dictionaries(
    st.sampled_from(WRITE_OPS),
    st.tuples(st.sampled_from([500, 500, 409, 429]), st.integers(1, 2)),
    max_size=3,
)


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Per hypothesis example (a fixture's monkeypatch would span all examples)."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in values.items():
            patch.setenv(key, value)
        yield


def write_project(root: Path, doc: dict[str, Any]) -> None:
    (root / "manifests").mkdir(parents=True, exist_ok=True)
    project = {
        "project": "prop",
        "default_target": "sandbox",
        "targets": {"sandbox": {"type": "sandbox"}},
    }
    (root / "reconciler.yaml").write_text(yaml.safe_dump(project))
    (root / "manifests" / "all.yaml").write_text(yaml.safe_dump(doc))


@contextlib.contextmanager
def quiet(plan: object) -> Iterator[ProgressSink]:
    yield NullProgress()


def apply_and_replan(root: Path, schedule: dict[str, tuple[int, int]]) -> None:
    rules = ",".join(f"{op}={status}x{times}" for op, (status, times) in schedule.items())
    project = load_project(root)
    request = ApplyRequest(allow_delete=True, settings=ApplySettings(retry_budget=30))
    with environment({"RECONCILER_SANDBOX_FAIL_OPERATIONS": rules}):
        run = run_apply(
            project, request, show=lambda p: None, confirm=lambda p: True, progress=quiet
        )
    assert run.result is None or run.result.ok, run.result and run.result.summary_lines()
    with environment({"RECONCILER_SANDBOX_FAIL_OPERATIONS": ""}):
        after = make_plan(project, "sandbox").plan
    assert after.empty, [(c.address, c.diffs) for c in after.changes]


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)  # no shrinking: examples take seconds
@given(first=manifests(), second=manifests(), faults1=faults, faults2=faults)
def test_apply_then_plan_is_empty(
    first: dict[str, Any],
    second: dict[str, Any],
    faults1: dict[str, tuple[int, int]],
    faults2: dict[str, tuple[int, int]],
) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        environment({**FAST_DELAYS, "RECONCILER_SANDBOX_RETRY_AFTER": "1"}),
    ):
        root = Path(tmp)
        with SandboxServer(root / ".reconciler" / "sandbox", config=SandboxConfig.fast()) as server:
            client = sandbox_client(server.url, ClientSettings(retry_timeout_seconds=5))
            for model in MODELS:
                register_versions_up_to(client, model, 3)
        write_project(root, first)
        apply_and_replan(root, faults1)
        write_project(root, second)
        apply_and_replan(root, faults2)
