"""The executor over the Workspace boundary: order, width, serialization, partial failure."""

from __future__ import annotations

from reconciler.apply import ApplySettings, Outcome, execute
from reconciler.model.changes import Plan, summarize

from .memory_workspace import MemoryWorkspace, change


def plan_of(*changes: object) -> Plan:
    cs = tuple(changes)  # type: ignore[arg-type]
    return Plan(target="t", changes=cs, summary=summarize(cs))  # type: ignore[arg-type]


def fast(**kw: object) -> ApplySettings:
    return ApplySettings(poll_initial=0.005, poll_max=0.02, **kw)  # type: ignore[arg-type]


def test_dependents_start_after_their_dependencies_finish() -> None:
    model = change("registered_model", "c.s.m")
    alias = change("model_alias", "c.s.m@champion", "registered_model.c.s.m", version=1)
    endpoint = change("serving_endpoint", "ep", "model_alias.c.s.m@champion")
    ws = MemoryWorkspace(write_seconds=0.01)
    result = execute(plan_of(endpoint, alias, model), ws, settings=fast())
    assert result.ok, result.summary_lines()
    assert ws.event(model.address).end <= ws.event(alias.address).start
    assert ws.event(alias.address).end <= ws.event(endpoint.address).start
    assert set(ws.assets) == {model.address, alias.address, endpoint.address}


def test_parallelism_bounds_concurrent_writes() -> None:
    changes = [change("registered_model", f"c.s.m{i}") for i in range(24)]
    ws = MemoryWorkspace(write_seconds=0.02)
    result = execute(plan_of(*changes), ws, settings=fast(parallelism=4))
    assert result.ok
    assert 1 < ws.max_active <= 4


def test_waits_overlap_beyond_the_write_width() -> None:
    changes = [change("serving_endpoint", f"ep{i}") for i in range(12)]
    ws = MemoryWorkspace(settle_seconds=0.15)
    result = execute(plan_of(*changes), ws, settings=fast(parallelism=2))
    assert result.ok
    assert ws.max_active <= 2
    # Waiting changes gave their slot back, so more than two settled at the same time.
    assert ws.max_waiting > 2


def test_endpoint_and_its_quota_never_run_at_once() -> None:
    changes = []
    for i in range(6):
        changes.append(change("serving_endpoint", f"ep{i}"))
        changes.append(change("quota", f"ep{i}"))
    ws = MemoryWorkspace(write_seconds=0.01, settle_seconds=0.03)
    result = execute(plan_of(*changes), ws, settings=fast(parallelism=16))
    assert result.ok
    assert ws.overlaps == []
    # Plan order decides which of the two goes first.
    for i in range(6):
        assert ws.event(f"serving_endpoint.ep{i}").end <= ws.event(f"quota.ep{i}").start


def test_failure_skips_dependents_and_lets_independent_branches_finish() -> None:
    model = change("registered_model", "c.s.m")
    alias = change("model_alias", "c.s.m@champion", "registered_model.c.s.m", version=1)
    endpoint = change("serving_endpoint", "ep", "model_alias.c.s.m@champion")
    other = change("vector_search_endpoint", "vs")
    index = change("vector_index", "c.s.idx", "vector_search_endpoint.vs")
    ws = MemoryWorkspace(fail={model.address: "PERMISSION_DENIED: no CREATE MODEL on c.s"})
    result = execute(plan_of(model, alias, endpoint, other, index), ws, settings=fast())
    assert not result.ok
    assert [r.address for r in result.failed] == [model.address]
    assert "PERMISSION_DENIED: no CREATE MODEL" in (result.failed[0].message or "")
    assert {r.address: r.message for r in result.skipped} == {
        alias.address: f"{model.address} failed",
        endpoint.address: f"{alias.address} was skipped",
    }
    assert {r.address for r in result.applied} == {other.address, index.address}
    summary = "\n".join(result.summary_lines())
    assert "2 applied, 1 failed, 2 skipped" in summary
    assert "Re-run apply" in summary


def test_dependencies_outside_the_plan_count_as_satisfied() -> None:
    alias = change("model_alias", "c.s.m@champion", "registered_model.c.s.m", version=2)
    result = execute(plan_of(alias), MemoryWorkspace(), settings=fast())
    assert result.ok and [r.outcome for r in result.results] == [Outcome.APPLIED]


def test_a_wait_that_never_settles_fails_with_a_timeout() -> None:
    ws = MemoryWorkspace(settle_seconds=5)
    ep = change("serving_endpoint", "slow")
    dependent = change("quota", "slow", "serving_endpoint.slow")
    result = execute(plan_of(ep, dependent), ws, settings=fast(change_timeout=0.2))
    assert [r.address for r in result.failed] == [ep.address]
    assert "timed out" in (result.failed[0].message or "")
    assert [r.address for r in result.skipped] == [dependent.address]


def test_whole_apply_timeout_skips_what_did_not_start() -> None:
    changes = [change("registered_model", f"c.s.m{i}") for i in range(6)]
    ws = MemoryWorkspace(write_seconds=0.1)
    result = execute(plan_of(*changes), ws, settings=fast(parallelism=1, timeout=0.15))
    assert not result.ok
    assert any(r.message == "apply timed out" for r in result.skipped)
    assert len(result.results) == 6


def test_empty_plan_is_a_success() -> None:
    result = execute(plan_of(), MemoryWorkspace(), settings=fast())
    assert result.ok and result.results == []


def test_a_dependency_cycle_is_skipped_not_hung() -> None:
    a = change("serving_endpoint", "a", "serving_endpoint.b")
    b = change("serving_endpoint", "b", "serving_endpoint.a")
    free = change("registered_model", "c.s.m")
    result = execute(plan_of(a, b, free), MemoryWorkspace(), settings=fast())
    assert [r.address for r in result.applied] == [free.address]
    assert {r.message for r in result.skipped} == {"its dependencies could not be ordered"}
