"""The plan as a pull-request comment: summary table, one collapsible section per asset.

GitHub rejects comments over 65,536 characters, so sections that do not fit are left out with
a note saying how many and where to see the full plan.
"""

from __future__ import annotations

from reconciler.model.changes import Action, Change, Plan
from reconciler.render.values import (
    CARRIED,
    MARKERS,
    fmt_value,
    split_destructive,
    summary_line,
)

LIMIT = 65_536
_FOOTER_RESERVE = 600
_MAX_CALLOUTS = 25
_TICK = "\u02cb"
"""Stands in for a backtick inside code spans and fences, so values cannot break out."""


def _code(text: str) -> str:
    return "`" + text.replace("`", _TICK) + "`"


def _fence(text: str) -> str:
    return text.replace("```", _TICK * 3)


def render_markdown(plan: Plan, *, limit: int = LIMIT) -> str:
    head = [f"### reconciler plan for {_code(plan.target)}", ""]
    if plan.project:
        head[0] += f" (project {_code(plan.project)})"
    head += [f"**{summary_line(plan)}**", ""]
    if plan.empty:
        return "\n".join(head)
    counts = plan.summary
    head += [
        "| create | update | replace | delete |",
        "|---:|---:|---:|---:|",
        f"| {counts.create} | {counts.update} | {counts.replace} | {counts.delete} |",
        "",
    ]
    destructive, _ = split_destructive(plan)
    if destructive:
        head += [
            "> [!CAUTION]",
            f"> **{len(destructive)} destructive change(s).** Apply refuses this plan without"
            " `--allow-delete`.",
        ]
        head += [
            f"> - `{MARKERS[c.action]}` {_code(c.address)}: {c.reason or c.action.value}"
            for c in destructive[:_MAX_CALLOUTS]
        ]
        if len(destructive) > _MAX_CALLOUTS:
            head.append(f"> - … and {len(destructive) - _MAX_CALLOUTS} more (see below)")
        head.append("")
    ordered = destructive + [c for c in plan.changes if not c.destructive]
    budget = limit - _FOOTER_RESERVE
    out = "\n".join(head) + "\n"
    table = ["| | Asset | Action | Fields |", "|---|---|---|---|"]
    rows = 0
    for change in ordered:
        row = (
            f"| `{MARKERS[change.action]}` | {_code(change.address)} | {change.action.value}"
            f" | {len(change.diffs)} |"
        )
        if len(out) + sum(len(t) + 1 for t in table) + len(row) > budget // 2:
            break
        table.append(row)
        rows += 1
    out += "\n".join(table) + "\n"
    if rows < len(ordered):
        out += f"\n_… and {len(ordered) - rows} more rows._\n"
    out += "\n"
    shown = 0
    for change in ordered:
        section = _section(change)
        if len(out) + len(section) > budget:
            break
        out += section
        shown += 1
    if shown < len(ordered):
        out += (
            f"\n> [!NOTE]\n> The plan is too large for one comment: {len(ordered) - shown} of"
            f" {len(ordered)} changes are not shown in detail. Run `reconciler plan` or read"
            " the plan artifact for all of them.\n"
        )
    return out


def _section(change: Change) -> str:
    title = f"<code>{MARKERS[change.action]} {_escape_html(change.address)}</code>"
    lines = [f"<details><summary>{title} ({change.action.value})</summary>", ""]
    if change.reason:
        label = "Destructive: " if change.destructive else ""
        lines += [f"**{label}{_escape_html(change.reason)}**", ""]
    lines.append("```diff")
    for diff in change.diffs:
        if change.action is Action.CREATE:
            body = [f"+ {diff.path}: {fmt_value(diff.after)}"]
        elif change.action is Action.DELETE:
            body = [f"- {diff.path}: {fmt_value(diff.before)}"]
        else:
            body = [
                f"- {diff.path}: {fmt_value(diff.before)}",
                f"+ {diff.path}: {fmt_value(diff.after)}",
            ]
        lines += [_fence(line) for line in body]
    lines += [_fence(f"  {path}: {CARRIED}") for path in change.carried]
    lines += ["```", "", "</details>", ""]
    return "\n".join(lines) + "\n"


def _escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
