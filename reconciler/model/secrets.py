"""Secret references (``{{secrets/scope/key}}``) never reach output, logs or plan files."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the models load pydantic; logging (every command) needs mask_secrets only
    from reconciler.model.changes import FieldDiff

SECRET_REF = re.compile(r"\{\{\s*secrets/[^}]*\}\}")
SECRET_MASK = "(secret)"
PLACEHOLDER = re.compile(r"\(secret(?: [0-9a-f]{6})?\)")
"""What a masked reference reads as: ``(secret a1b2c3)`` (``(secret)`` before fingerprints)."""
_FINGERPRINT_SALT = b"reconciler: secret reference\0"


def fingerprint(reference: str) -> str:
    """Six hex digits of a hash of the reference (not of the secret, which the tool never
    sees): two references show different fingerprints, so changing one is a visible diff,
    yet the reference itself (scope and key) is never printed."""
    return hashlib.sha256(_FINGERPRINT_SALT + reference.encode()).hexdigest()[:6]


def mask_reference(reference: str) -> str:
    return f"(secret {fingerprint(reference)})"


def has_placeholder(value: str) -> bool:
    """``value`` holds a masked reference (as ``import`` writes them), not a real one."""
    return PLACEHOLDER.search(value) is not None


def mask_secrets(value: Any) -> Any:
    """Replace ``{{secrets/...}}`` references anywhere in a value (or free text such as a log
    line) with ``(secret <fingerprint>)``. The one masking function: renderers, import and
    logs use it."""
    if isinstance(value, str):
        return SECRET_REF.sub(lambda found: mask_reference(found.group(0)), value)
    if isinstance(value, Mapping):
        return {k: mask_secrets(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_secrets(v) for v in value]
    return value


def masked(diff: FieldDiff) -> FieldDiff:
    before, after = mask_secrets(diff.before), mask_secrets(diff.after)
    if before == diff.before and after == diff.after:
        return diff
    return diff.model_copy(update={"before": before, "after": after})
