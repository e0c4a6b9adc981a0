"""Secret references (``{{secrets/scope/key}}``) never reach output, logs or plan files."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reconciler.model.changes import FieldDiff

SECRET_REF = re.compile(r"\{\{\s*secrets/[^}]*\}\}")
SECRET_MASK = "(secret)"


def mask_secrets(value: Any) -> Any:
    """Replace ``{{secrets/...}}`` references anywhere in a value (or free text such as a log
    line) with ``(secret)``. The one masking function: renderers, import and logs use it."""
    if isinstance(value, str):
        return SECRET_REF.sub(SECRET_MASK, value)
    if isinstance(value, Mapping):
        return {k: mask_secrets(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_secrets(v) for v in value]
    return value


def masked(diff: FieldDiff) -> FieldDiff:
    before, after = mask_secrets(diff.before), mask_secrets(diff.after)
    if before == diff.before and after == diff.after:
        return diff
    return FieldDiff(path=diff.path, before=before, after=after)
