"""Plans for people (text, markdown for PR comments) and for machines (json)."""

from __future__ import annotations

from enum import StrEnum

from reconciler.model.changes import Plan
from reconciler.render.json_format import render_json
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


def render(plan: Plan, fmt: Format | str = Format.TEXT, *, color: bool = False) -> str:
    """The plan as a string; ``color`` only applies to text (callers pass ``isatty()``)."""
    kind = Format(fmt)
    if kind is Format.JSON:
        return render_json(plan)
    if kind is Format.MARKDOWN:
        return render_markdown(plan)
    return render_text(plan, color=color)


__all__ = ["Format", "render"]
