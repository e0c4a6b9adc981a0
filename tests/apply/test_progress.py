"""Progress output: JSON event lines for machines, a live table for terminals."""

from __future__ import annotations

import io
import json

from rich.console import Console

from reconciler.apply import ApplySettings, execute
from reconciler.apply.progress import LineProgress, LiveProgress
from reconciler.model.changes import Plan

from .memory_workspace import MemoryWorkspace, change


def test_json_lines_name_each_event() -> None:
    stream = io.StringIO()
    ws = MemoryWorkspace(settle_seconds=0.02, fail={"serving_endpoint.bad": "boom"})
    plan = Plan(
        target="t", changes=(change("serving_endpoint", "ok"), change("serving_endpoint", "bad"))
    )
    settings = ApplySettings(poll_initial=0.005)
    execute(plan, ws, settings=settings, progress=LineProgress(json_lines=True, stream=stream))
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    kinds = {(e["event"], e["address"]) for e in events}
    assert ("apply.waiting", "serving_endpoint.ok") in kinds
    assert ("apply.applied", "serving_endpoint.ok") in kinds
    failed = next(e for e in events if e["event"] == "apply.failed")
    assert failed["address"] == "serving_endpoint.bad" and "boom" in failed["message"]


def test_live_table_shows_running_and_waiting_changes() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    live = LiveProgress(2, console=console)
    a, b = change("serving_endpoint", "a"), change("quota", "[b]")
    live.started(a)
    live.waiting(b, "waiting for endpoint b config update")
    console.print(live._render())
    text = out.getvalue()
    assert "serving_endpoint.a" in text and "running" in text
    assert "waiting for endpoint b config update" in text
    assert "0/2 done, 2 in flight" in text
