"""Plans for people (text, markdown for PR comments) and for machines (json)."""

from __future__ import annotations

from enum import StrEnum

from reconciler.model.changes import Plan


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


def render(plan: Plan, fmt: Format | str = Format.TEXT, *, color: bool = False) -> str:
    """The plan as a string; ``color`` only applies to text (callers pass ``isatty()``)."""
    kind = Format(fmt)
    if kind is Format.JSON:
        from reconciler.render.json_format import render_json

        return render_json(plan)
    if kind is Format.MARKDOWN:
        from reconciler.render.markdown import render_markdown

        return render_markdown(plan)
    from reconciler.render.text import render_text

    return render_text(plan, color=color)


__all__ = ["Format", "render"]
