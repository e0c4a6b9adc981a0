"""Secret references in saved plans: sealed on save, checked against the manifests on apply.

A plan file is an artifact people pass around (CI uploads, pull-request attachments), so it must
not name secrets either. ``seal`` replaces every string holding a ``{{secrets/...}}`` reference
in a change's desired document with a marker ``(secret sha256:SALT:DIGEST)``, where DIGEST is
the SHA-256 of the salt and the original string and SALT is random per saved plan (so the same
reference gives different markers in different files and no precomputed table reverses them).

``apply PLAN_FILE`` plans again from the manifests and applies that fresh plan, which holds the
real references, only when it is the saved one (``reconciler.plan.exact``): ``first_mismatch``
compares each saved desired document with the fresh one, a marker matching the string at the
same path when that string hashes to the marker's digest. A missing value or a different digest
refuses the plan, and the error names the asset and the field, never a value.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from typing import Any

from reconciler.model.changes import Change, Plan
from reconciler.model.secrets import SECRET_REF

MARKER = re.compile(r"^\(secret sha256:(?P<salt>[0-9a-f]{16}):(?P<digest>[0-9a-f]{64})\)$")
"""A sealed value: ``(secret sha256:<16 hex salt>:<64 hex digest>)``."""


def digest(salt: str, value: str) -> str:
    return hashlib.sha256(f"{salt}\0{value}".encode()).hexdigest()


def marker(salt: str, value: str) -> str:
    return f"(secret sha256:{salt}:{digest(salt, value)})"


def seal_value(value: Any, salt: str) -> Any:
    """``value`` with every string that holds a secret reference replaced by its marker."""
    if isinstance(value, str):
        return marker(salt, value) if SECRET_REF.search(value) else value
    if isinstance(value, Mapping):
        return {k: seal_value(v, salt) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [seal_value(v, salt) for v in value]
    return value


def seal(plan: Plan, salt: str | None = None) -> Plan:
    """The plan with the secret references of every desired document sealed."""
    salt = salt or secrets.token_hex(8)
    changes = []
    for change in plan.changes:
        if change.desired is None:
            changes.append(change)
            continue
        sealed = seal_value(change.desired, salt)
        changes.append(change if sealed == change.desired else _with_desired(change, sealed))
    return plan.model_copy(update={"changes": tuple(changes)})


def first_mismatch(saved: Any, fresh: Any, path: str = "") -> tuple[str, bool] | None:
    """Where ``saved`` (a value read back from a plan file, markers and all) first differs from
    ``fresh`` (the same value computed now, in its JSON form), and whether it is a sealed
    secret there; None when they are the same.

    A marker matches the string it seals (same salted digest); everything else must be equal
    and of the same JSON type (``true`` is not ``1``, ``1`` is not ``1.0``). Paths are dotted
    like plan diffs (``served_entities.0.environment_vars.KEY``); ``""`` is the value itself.
    """
    if isinstance(saved, str) and (found := MARKER.match(saved)) is not None:
        same = isinstance(fresh, str) and digest(found["salt"], fresh) == found["digest"]
        return None if same else (path, True)
    if isinstance(saved, Mapping) and isinstance(fresh, Mapping):
        for key in [*saved, *(k for k in fresh if k not in saved)]:
            where = _join(path, str(key))
            if key not in saved or key not in fresh:
                return where, False
            deeper = first_mismatch(saved[key], fresh[key], where)
            if deeper is not None:
                return deeper
        return None
    if isinstance(saved, list | tuple) and isinstance(fresh, list | tuple):
        for index in range(max(len(saved), len(fresh))):
            where = _join(path, str(index))
            if index >= len(saved) or index >= len(fresh):
                return where, False
            deeper = first_mismatch(saved[index], fresh[index], where)
            if deeper is not None:
                return deeper
        return None
    same = type(saved) is type(fresh) and saved == fresh
    return None if same else (path, False)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _with_desired(change: Change, desired: Any) -> Change:
    return change.model_copy(update={"desired": desired})
