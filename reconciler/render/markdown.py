"""The plan as a pull-request comment: summary table, call-outs for destructive changes and
adoptions, one collapsible section per asset, and the declared assets that are not healthy.

GitHub rejects comments over 65,536 characters, so sections that do not fit are left out with
a note saying how many and where to see the full plan.
"""

from __future__ import annotations

from reconciler.model.changes import Action, Change, Plan
from reconciler.model.health import AssetHealth
from reconciler.render.values import (
    ADOPT_NOTE,
    CARRIED,
    HEALTH_MARKERS,
    MARKERS,
    fmt_value,
    health_line,
    sections,
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
    health = _health(plan.health)
    if plan.empty:
        return "\n".join(head) + ("\n" + health if health else "")
    counts = plan.summary
    head += [
        "| create | adopt | update | replace | delete |",
        "|---:|---:|---:|---:|---:|",
        f"| {counts.create} | {counts.adopt} | {counts.update} | {counts.replace}"
        f" | {counts.delete} |",
        "",
    ]
    destructive, adopts, rest = sections(plan)
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
    if adopts:
        head += [
            "> [!IMPORTANT]",
            f"> **{len(adopts)} asset(s) to adopt**: {ADOPT_NOTE}.",
        ]
        head += [f"> - `{MARKERS[c.action]}` {_code(c.address)}" for c in adopts[:_MAX_CALLOUTS]]
        if len(adopts) > _MAX_CALLOUTS:
            head.append(f"> - … and {len(adopts) - _MAX_CALLOUTS} more (see below)")
        head.append("")
    ordered = destructive + adopts + rest
    budget = limit - _FOOTER_RESERVE - len(health)
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
    return out.rstrip("\n") + "\n\n" + health if health else out


def _health(health: tuple[AssetHealth, ...], shown: int = _MAX_CALLOUTS) -> str:
    """The declared assets that are not healthy, with the workspace's own message."""
    if not health:
        return ""
    lines = [
        f"**{health_line(health)}**",
        "",
        "| | Asset | Health | Message |",
        "|---|---|---|---|",
    ]
    for item in health[:shown]:
        message = item.message.replace("|", "\\|").replace("\n", " ")
        if len(message) > 300:
            message = message[:297] + "..."
        lines.append(
            f"| `{HEALTH_MARKERS[item.status]}` | {_code(item.address)} | {item.status.value}"
            f" | {_escape_html(message)} |"
        )
    if len(health) > shown:
        lines.append(f"\n_… and {len(health) - shown} more; run `reconciler plan` for all._")
    return "\n".join(lines) + "\n"


def _section(change: Change) -> str:
    marker = _escape_html(MARKERS[change.action])
    title = f"<code>{marker} {_escape_html(change.address)}</code>"
    lines = [f"<details><summary>{title} ({change.action.value})</summary>", ""]
    if change.reason:
        label = "Destructive: " if change.destructive else ""
        lines += [f"**{label}{_escape_html(change.reason)}**", ""]
    if change.action is Action.ADOPT:
        lines += [f"**Adopt:** {ADOPT_NOTE}.", ""]
        if not change.diffs:
            lines += ["No field changes: apply writes the ownership marker only.", ""]
    if change.diffs or change.carried:
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
    if change.diffs or change.carried:
        lines += ["```", ""]
    lines += ["</details>", ""]
    return "\n".join(lines) + "\n"


def _escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
