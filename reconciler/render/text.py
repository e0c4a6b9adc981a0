"""The terminal plan: destructive changes first and loud, then adoptions (assets nobody owns
that apply takes over), then the rest grouped by kind; declared assets that are not healthy
close it, above the summary line.

Colour only when the caller says the output is a terminal; the words carry the meaning alone.
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.markup import escape

from reconciler.model.changes import Action, Change, Plan
from reconciler.model.health import AssetHealth, HealthStatus
from reconciler.render.values import (
    ADOPT_NOTE,
    CARRIED,
    HEALTH_MARKERS,
    MARKERS,
    NONE,
    fmt_value,
    grouped,
    health_line,
    sections,
    summary_line,
)

STYLES = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.REPLACE: "bold red",
    Action.DELETE: "bold red",
    Action.ADOPT: "bold magenta",
}
HEALTH_STYLES = {HealthStatus.DEGRADED: "bold red", HealthStatus.PROGRESSING: "yellow"}


def render_text(plan: Plan, *, color: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        width=10_000,
        soft_wrap=True,
        highlight=False,
        emoji=False,
    )
    project = f" (project {plan.project})" if plan.project else ""
    console.print(escape(f"Plan for target {plan.target}{project}"))
    console.print()
    destructive, adopts, others = sections(plan)
    if destructive:
        noun = "change" if len(destructive) == 1 else "changes"
        console.print(
            f"[bold red]!! {len(destructive)} DESTRUCTIVE {noun.upper()}: apply refuses them"
            " without --allow-delete[/]"
        )
        console.print()
        _groups(console, destructive)
    if adopts:
        noun = "ASSET" if len(adopts) == 1 else "ASSETS"
        console.print(f"[bold magenta]<= {len(adopts)} {noun} TO ADOPT: {escape(ADOPT_NOTE)}[/]")
        console.print()
        _groups(console, adopts)
    _groups(console, others)
    if plan.health:
        _health(console, plan.health)
    console.print(f"[bold]{escape(summary_line(plan))}[/]")
    return buffer.getvalue()


def _health(console: Console, health: tuple[AssetHealth, ...]) -> None:
    console.print(f"[bold]{escape(health_line(health))}[/]")
    for item in health:
        style = HEALTH_STYLES[item.status]
        console.print(
            f"  [{style}]{HEALTH_MARKERS[item.status]} {escape(item.address)}"
            f" {item.status.value}:[/] {escape(item.message)}"
        )
    console.print()


def _groups(console: Console, changes: list[Change]) -> None:
    for kind, members in grouped(changes):
        console.print(f"[bold]{escape(kind)}[/]")
        for change in members:
            _change(console, change)
        console.print()


def _change(console: Console, change: Change) -> None:
    style = STYLES[change.action]
    marker = MARKERS[change.action]
    console.print(
        f"  [{style}]{escape(marker)} {escape(change.address)}[/] ({change.action.value})"
    )
    if change.reason:
        console.print(f"      [{style}]{escape('reason: ' + change.reason)}[/]")
    if change.action is Action.DELETE:
        return
    if change.action is Action.ADOPT and not change.diffs:
        console.print("      (no field changes: apply writes the ownership marker only)")
    for diff in change.diffs:
        if change.action is Action.CREATE:
            lines = [f"{path}: {fmt_value(value)}" for path, value in leaves(diff.path, diff.after)]
        elif diff.before is None and isinstance(diff.after, dict):
            lines = [
                f"{path}: {NONE} → {fmt_value(v)}" for path, v in leaves(diff.path, diff.after)
            ]
        else:
            lines = [f"{diff.path}: {fmt_value(diff.before)} → {fmt_value(diff.after)}"]
        for line in lines:
            console.print(f"      {escape(line)}")
    for path in change.carried:
        console.print(f"      [dim]{escape(f'{path}: {CARRIED}')}[/]")


def leaves(path: str, value: Any) -> list[tuple[str, Any]]:
    """A new object as one line per field (``delta_sync.source_table``), as a reader scans it;
    lists stay whole, since their items have no names to put in a path."""
    if not isinstance(value, dict) or not value:
        return [(path, value)]
    return [leaf for key, item in value.items() for leaf in leaves(f"{path}.{key}", item)]
