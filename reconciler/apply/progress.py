"""Showing an apply as it runs: a live table in a terminal, one line per event otherwise."""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import UTC, datetime
from types import TracebackType
from typing import IO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from reconciler.model.changes import Change
from reconciler.runtime.result import ChangeResult, Outcome

MARKS = {
    Outcome.APPLIED: "[green]✓[/]",
    Outcome.FAILED: "[red]✗[/]",
    Outcome.SKIPPED: "[yellow]-[/]",
}


class LineProgress:
    """Quiet lines: JSON objects in JSON log mode, short text otherwise (CI logs)."""

    def __init__(self, *, json_lines: bool, stream: IO[str] | None = None) -> None:
        self.json_lines = json_lines
        self.stream = stream or sys.stderr
        self.lock = threading.Lock()

    def _emit(self, event: str, change: Change, **fields: object) -> None:
        if self.json_lines:
            # The shape of the other JSON log lines (reconciler.runtime.logs): one object a line.
            failed = event in ("apply.failed", "apply.skipped")
            record: dict[str, object] = {
                "event": event,
                "address": change.address,
                "action": change.action.value,
                "level": "warning" if failed else "info",
                "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            }
            record.update({k: v for k, v in fields.items() if v is not None})
            line = json.dumps(record, default=str, sort_keys=True)
        else:
            extra = " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
            line = f"{event:<8} {change.address} {extra}".rstrip()
        with self.lock:
            print(line, file=self.stream, flush=True)

    def started(self, change: Change) -> None:
        if self.json_lines:
            self._emit("apply.started", change)

    def waiting(self, change: Change, what: str) -> None:
        self._emit("apply.waiting" if self.json_lines else "wait", change, what=what)

    def resumed(self, change: Change) -> None:
        pass

    def finished(self, result: ChangeResult) -> None:
        event = f"apply.{result.outcome.value}" if self.json_lines else result.outcome.value
        self._emit(event, result.change, seconds=round(result.seconds, 2), message=result.message)


class LiveProgress:
    """A terminal table of what runs and what waits, with elapsed times; done lines scroll."""

    def __init__(self, total: int, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.total = total
        self.lock = threading.Lock()
        self.active: dict[str, tuple[Change, str, float]] = {}
        self.done = 0
        self.started_at = time.monotonic()
        self.live = Live(
            get_renderable=self._render, console=self.console, refresh_per_second=4, transient=True
        )

    def __enter__(self) -> LiveProgress:
        self.live.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.live.stop()

    def _render(self) -> RenderableType:
        with self.lock:
            rows = sorted(self.active.values(), key=lambda r: r[2])
            done = self.done
        now = time.monotonic()
        table = Table.grid(padding=(0, 2))
        width = self.console.width
        address_width = max(20, int(width * 0.45))
        table.add_column(no_wrap=True, overflow="ellipsis", max_width=address_width)
        table.add_column(
            no_wrap=True, overflow="ellipsis", max_width=max(16, width - address_width - 12)
        )
        table.add_column(no_wrap=True, justify="right", min_width=6)
        for change, state, since in rows[:30]:
            style = "cyan" if state == "running" else "magenta"
            table.add_row(
                Text(change.address), Text(state, style=style), Text(f"{now - since:5.1f}s")
            )
        if len(rows) > 30:
            table.add_row(Text(f"... and {len(rows) - 30} more"), Text(""), Text(""))
        head = Text(
            f"applying: {done}/{self.total} done, {len(rows)} in flight,"
            f" {now - self.started_at:.1f}s elapsed",
            style="bold",
        )
        return Group(head, table)

    def started(self, change: Change) -> None:
        with self.lock:
            self.active[change.address] = (change, "running", time.monotonic())

    def waiting(self, change: Change, what: str) -> None:
        with self.lock:
            self.active[change.address] = (change, what, time.monotonic())

    def resumed(self, change: Change) -> None:
        with self.lock:
            self.active[change.address] = (change, "running", time.monotonic())

    def finished(self, result: ChangeResult) -> None:
        with self.lock:
            self.active.pop(result.address, None)
            self.done += 1
        note = f": {escape(result.message)}" if result.message else ""
        self.live.console.print(
            f"{MARKS[result.outcome]} {result.change.action.value:<8} {escape(result.address)}"
            f" [dim]{result.seconds:.1f}s[/]{note}",
            highlight=False,
            markup=True,
        )
