"""Unity Catalog grants: ``/api/2.1/unity-catalog/permissions/{securable_type}/{full_name}``.

GET answers ``privilege_assignments: [{principal, privileges}]`` (direct grants, privileges
sorted; ``principal`` filters); PATCH takes ``changes: [{principal, add, remove}]``, removes
first, then adds; removing ``ALL_PRIVILEGES`` takes every privilege of that principal, and a
privilege both added and removed for one principal is a 400, as on Databricks. The securable
type is case-insensitive: registered models are FUNCTION, vector indexes TABLE. Each type takes
the privileges Unity Catalog defines for it; grants go when their securable is deleted.
"""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.api import Request, Router, invalid, not_found
from reconciler.sandbox.store import Doc, Tx
from reconciler.sandbox.unity_catalog import MODELS
from reconciler.sandbox.vector_search import INDEXES

router = Router()
COLLECTION = "uc_grants"
ALL_PRIVILEGES = "ALL_PRIVILEGES"
PRIVILEGES = {
    "FUNCTION": ("ALL_PRIVILEGES", "APPLY_TAG", "EXECUTE", "MANAGE"),
    "TABLE": ("ALL_PRIVILEGES", "APPLY_TAG", "MANAGE", "MODIFY", "SELECT"),
}
_PATH = "/api/2.1/unity-catalog/permissions/{type}/{full_name}"


def grants_key(securable_type: str, full_name: str) -> str:
    return f"{securable_type.upper()}:{full_name.lower()}"


def drop_grants(tx: Tx, securable_type: str, full_name: str) -> None:
    """Called when a securable is deleted."""
    tx.delete(COLLECTION, grants_key(securable_type, full_name))


def _securable(req: Request) -> tuple[str, str]:
    kind = req.params["type"].upper()
    name = req.params["full_name"]
    if kind not in PRIVILEGES:
        raise invalid(
            f"Securable type {req.params['type']!r} is not supported by the sandbox;"
            " registered models are FUNCTION, vector indexes TABLE."
        )
    collection = MODELS if kind == "FUNCTION" else INDEXES
    if req.tx.get(collection, name.lower() if kind == "FUNCTION" else name) is None:
        what = "Routine or Model" if kind == "FUNCTION" else "Table"
        raise not_found(f"{what} '{name}' does not exist.")
    return kind, name


def _assignments(grants: dict[str, list[str]], principal: str | None = None) -> list[Doc]:
    return [
        {"principal": p, "privileges": sorted(privs)}
        for p, privs in sorted(grants.items())
        if privs and (principal is None or p == principal)
    ]


@router.add("GET", _PATH, "grants.get")
def get(req: Request) -> Doc:
    kind, name = _securable(req)
    max_results = req.q_int("max_results")
    if max_results is not None and (max_results < 0 or 0 < max_results < 150):
        raise invalid("max_results must be 0 or at least 150.")
    stored = req.tx.get(COLLECTION, grants_key(kind, name)) or {"grants": {}}
    return {"privilege_assignments": _assignments(stored["grants"], req.q("principal"))}


def _privileges(value: Any, kind: str, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(f"{what} must be a list of privileges.")
    for privilege in value:
        if privilege not in PRIVILEGES[kind]:
            raise invalid(
                f"Privilege {privilege} is not applicable to this entity"
                f" [{kind}]; applicable: {', '.join(PRIVILEGES[kind])}."
            )
    return list(value)


@router.add("PATCH", _PATH, "grants.update")
def update(req: Request) -> Doc:
    kind, name = _securable(req)
    changes = req.body.get("changes") or []
    if not isinstance(changes, list):
        raise invalid("changes must be a list.")
    key = grants_key(kind, name)
    grants: dict[str, list[str]] = dict((req.tx.get(COLLECTION, key) or {"grants": {}})["grants"])
    for change in changes:
        if not isinstance(change, dict) or not change.get("principal"):
            raise invalid("Every change needs a principal.")
        principal = str(change["principal"])
        add = _privileges(change.get("add"), kind, "add")
        remove = _privileges(change.get("remove"), kind, "remove")
        if set(add) & set(remove):
            raise invalid(f"Duplicate privileges to add and delete for principal {principal}.")
        held = set(grants.get(principal, []))
        held = set() if ALL_PRIVILEGES in remove else held - set(remove)
        grants[principal] = sorted(held | set(add))
    grants = {p: v for p, v in grants.items() if v}
    req.tx.put(COLLECTION, key, {"grants": grants})
    return {"privilege_assignments": _assignments(grants)}
