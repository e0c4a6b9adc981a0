"""``${var.NAME}`` in manifests: the target's variable values, substituted while loading.

A scalar that is exactly one reference takes the variable's value with its type (so
``champion: ${var.champion_version}`` stays an integer); a reference inside longer text is
replaced by the value's text. ``$${`` writes a literal ``${``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reconciler.model.errors import Location, ManifestError

_REF = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_VAR = re.compile(r"^var\.([A-Za-z_][A-Za-z0-9_]*)$")


class Interpolator:
    """Callable used by the YAML loader for every string scalar and key holding ``${``."""

    def __init__(self, variables: Mapping[str, Any], *, target: str, declared: set[str]) -> None:
        self.variables = variables
        self.target = target
        self.declared = declared

    def __call__(self, text: str, where: Location, style: str) -> Any:
        matches = list(_REF.finditer(text))
        whole = len(matches) == 1 and matches[0].span() == (0, len(text))
        if whole and matches[0].group(0) != "$${":
            return self._value(matches[0], text, where, style)
        out: list[str] = []
        last = 0
        for match in matches:
            out.append(text[last : match.start()])
            if match.group(0) == "$${":
                out.append("${")
            else:
                value = self._value(match, text, where, style)
                out.append(_as_text(value))
            last = match.end()
        out.append(text[last:])
        return "".join(out)

    def _value(self, match: re.Match[str], text: str, where: Location, style: str) -> Any:
        inner = match.group(1).strip()
        var = _VAR.match(inner)
        loc = _column_of(where, text, match.start(), style)
        if var is None:
            raise ManifestError(
                f"unsupported interpolation ${{{inner}}}; only ${{var.NAME}} is supported",
                location=loc,
                hint="write $${ for a literal '${'",
            )
        name = var.group(1)
        if name not in self.variables:
            if name in self.declared:
                raise ManifestError(
                    f"variable {name!r} has no value for target {self.target!r}",
                    location=loc,
                    hint=f"give it a default, or set it under targets.{self.target}.variables",
                )
            known = ", ".join(sorted(self.declared)) or "none"
            raise ManifestError(
                f"unknown variable {name!r} (declared: {known})",
                location=loc,
                hint="declare variables under `variables:` in reconciler.yaml",
            )
        return self.variables[name]


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _column_of(where: Location, text: str, offset: int, style: str) -> Location:
    """The column of a reference inside a one-line scalar; the scalar's start otherwise."""
    before = text[:offset]
    if "\n" in before:
        return where
    if style == "":
        return Location(where.file, where.line, where.column + offset)
    if style == "'" and "'" not in before:
        return Location(where.file, where.line, where.column + 1 + offset)
    if style == '"' and "\\" not in before:
        return Location(where.file, where.line, where.column + 1 + offset)
    return where
