"""Secret references in saved plans: sealed on save, filled back from the manifests on apply.

A plan file is an artifact people pass around (CI uploads, pull-request attachments), so it must
not name secrets either. ``seal`` replaces every string holding a ``{{secrets/...}}`` reference
in a change's desired document with a marker ``(secret sha256:SALT:DIGEST)``, where DIGEST is
the SHA-256 of the salt and the original string and SALT is random per saved plan (so the same
reference gives different markers in different files and no precomputed table reverses them).

``unseal`` runs when ``apply PLAN_FILE`` has re-planned from the manifests: each marker is
replaced by the string at the same path of the freshly computed desired document of the same
asset, after checking that string hashes to the marker's digest. A missing value or a different
digest means the manifests changed since the plan was made: the plan is stale, and the error
names the asset and the field, never a value.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from typing import Any

from reconciler.model.changes import Change, Plan
from reconciler.model.errors import ApplyError
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


def has_sealed(value: Any) -> bool:
    if isinstance(value, str):
        return MARKER.match(value) is not None
    if isinstance(value, Mapping):
        return any(has_sealed(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(has_sealed(v) for v in value)
    return False


def unseal(saved: Plan, fresh: Plan, source: str, target: str) -> Plan:
    """``saved`` with every marker filled from ``fresh`` (planned now from the manifests).

    Raises ApplyError (stale plan, nothing applied) when a marker's value cannot be found at the
    same address and path of ``fresh``, or no longer hashes to the marker's digest.
    """
    fresh_docs = {c.address: c.desired for c in fresh.changes}
    changes = []
    for change in saved.changes:
        if change.desired is None or not has_sealed(change.desired):
            changes.append(change)
            continue
        where = (change.address, source, target)
        filled = _fill(change.desired, fresh_docs.get(change.address), "", where)
        changes.append(_with_desired(change, filled))
    return saved.model_copy(update={"changes": tuple(changes)})


def _fill(saved: Any, fresh: Any, path: str, where: tuple[str, str, str]) -> Any:
    if isinstance(saved, str):
        found = MARKER.match(saved)
        if found is None:
            return saved
        if not isinstance(fresh, str) or digest(found["salt"], fresh) != found["digest"]:
            raise _stale(path, *where)
        return fresh
    if isinstance(saved, Mapping):
        sub = fresh if isinstance(fresh, Mapping) else {}
        return {k: _fill(v, sub.get(k), _join(path, str(k)), where) for k, v in saved.items()}
    if isinstance(saved, list | tuple):
        items = list(fresh) if isinstance(fresh, list | tuple) else []
        return [
            _fill(v, items[i] if i < len(items) else None, _join(path, str(i)), where)
            for i, v in enumerate(saved)
        ]
    return saved


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _stale(path: str, address: str, source: str, target: str) -> ApplyError:
    return ApplyError(
        f"{source} is stale: the secret reference at {address} field {path} is not what the"
        " manifests say now (changed or removed since the plan was made); nothing was applied",
        hint=f"run 'reconciler plan -t {target} -o {source}' again, review it, then apply it",
    )


def _with_desired(change: Change, desired: Any) -> Change:
    return change.model_copy(update={"desired": desired})
