"""Object permissions: ``/api/2.0/permissions/{serving-endpoints|vector-search-endpoints}/{id}``.

Addressed by the object's ``id`` (not its name). PUT replaces every direct grant, PATCH merges;
the workspace ``admins`` group always holds an inherited CAN_MANAGE, as in a real workspace.

The caller is a workspace admin unless ``SandboxConfig.caller_is_admin`` is False; then what
it may do to a serving endpoint follows the endpoint's ACL (its own grants and those of the
``users`` group), so a deployer that removed its own CAN_MANAGE is locked out, as on Databricks.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.sandbox.api import ApiError, Request, Router, invalid, not_found
from reconciler.sandbox.config import SANDBOX_USER
from reconciler.sandbox.store import Doc, Tx

router = Router()
COLLECTION = "permissions"
PRINCIPAL_FIELDS = ("user_name", "group_name", "service_principal_name")


@dataclass(frozen=True)
class ObjectType:
    path: str
    object_type: str
    ids: str
    """Collection mapping object id -> name."""
    levels: dict[str, str]


TYPES = {
    "serving-endpoints": ObjectType(
        "serving-endpoints",
        "serving-endpoint",
        "serving_endpoint_ids",
        {
            "CAN_MANAGE": "Can manage the endpoint",
            "CAN_QUERY": "Can query the endpoint",
            "CAN_VIEW": "Can view the endpoint",
        },
    ),
    "vector-search-endpoints": ObjectType(
        "vector-search-endpoints",
        "vector-search-endpoint",
        "vs_endpoint_ids",
        {
            "CAN_CREATE": "Can create indexes on the endpoint",
            "CAN_MANAGE": "Can manage the endpoint",
            "CAN_USE": "Can use the endpoint",
        },
    ),
}


def grant_creator(tx: Tx, type_path: str, object_id: str) -> None:
    tx.put(
        COLLECTION,
        f"{type_path}/{object_id}",
        {
            "acl": [
                {"principal_field": "user_name", "principal": SANDBOX_USER, "level": "CAN_MANAGE"}
            ]
        },
    )


_RANK = {"CAN_VIEW": 1, "CAN_QUERY": 2, "CAN_USE": 2, "CAN_CREATE": 2, "CAN_MANAGE": 3}


def caller_level(req: Request, type_path: str, object_id: str) -> str | None:
    """The caller's highest permission level on an object (None: no access)."""
    if req.config.caller_is_admin:
        return "CAN_MANAGE"
    doc = req.tx.get(COLLECTION, f"{type_path}/{object_id}") or {"acl": []}
    mine = {("user_name", SANDBOX_USER), ("group_name", "users")}
    levels = [g["level"] for g in doc["acl"] if (g["principal_field"], g["principal"]) in mine]
    return max(levels, key=lambda level: _RANK.get(level, 0)) if levels else None


def require(req: Request, type_path: str, object_id: str, what: str, *, manage: bool) -> None:
    """403 PERMISSION_DENIED unless the caller may view (or, with ``manage``, manage) it."""
    level = caller_level(req, type_path, object_id)
    if level is None or (manage and level != "CAN_MANAGE"):
        needed = "CAN_MANAGE" if manage else "CAN_VIEW"
        raise ApiError(
            403,
            "PERMISSION_DENIED",
            f"User {SANDBOX_USER} does not have {needed} permission on {what}."
            " Ask its owner or a workspace admin for access.",
        )


def _object(req: Request) -> tuple[ObjectType, str]:
    kind = TYPES.get(req.params["type"])
    if kind is None:
        raise invalid(f"Unsupported object type {req.params['type']!r} in the sandbox.")
    object_id = req.params["id"]
    if req.tx.get(kind.ids, object_id) is None:
        raise not_found(f"{kind.object_type} {object_id} does not exist.")
    return kind, object_id


def _parse_acl(req: Request, kind: ObjectType) -> list[Doc]:
    entries = req.body.get("access_control_list") or []
    if not isinstance(entries, list):
        raise invalid("access_control_list must be a list.")
    out: list[Doc] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise invalid("Every access control entry must be an object.")
        given = [f for f in PRINCIPAL_FIELDS if entry.get(f)]
        if len(given) != 1:
            raise invalid(
                "Each access control entry needs exactly one of user_name, group_name,"
                " service_principal_name."
            )
        level = entry.get("permission_level")
        if level not in kind.levels:
            raise invalid(
                f"Invalid permission level {level!r} for a {kind.object_type}; "
                f"use one of {', '.join(sorted(kind.levels))}."
            )
        out.append({"principal_field": given[0], "principal": entry[given[0]], "level": level})
    return out


def _render(kind: ObjectType, object_id: str, acl: list[Doc]) -> Doc:
    by_principal: dict[tuple[str, str], list[str]] = {}
    for grant in acl:
        levels = by_principal.setdefault((grant["principal_field"], grant["principal"]), [])
        if grant["level"] not in levels:
            levels.append(grant["level"])
    entries: list[Doc] = [
        {
            field: principal,
            "all_permissions": [{"permission_level": lvl, "inherited": False} for lvl in levels],
        }
        for (field, principal), levels in sorted(by_principal.items())
    ]
    entries.append(
        {
            "group_name": "admins",
            "all_permissions": [
                {
                    "permission_level": "CAN_MANAGE",
                    "inherited": True,
                    "inherited_from_object": [f"/{kind.path}/"],
                }
            ],
        }
    )
    return {
        "object_id": f"/{kind.path}/{object_id}",
        "object_type": kind.object_type,
        "access_control_list": entries,
    }


def _key(kind: ObjectType, object_id: str) -> str:
    return f"{kind.path}/{object_id}"


@router.add("GET", "/api/2.0/permissions/{type}/{id}", "permissions.get")
def get(req: Request) -> Doc:
    kind, object_id = _object(req)
    doc = req.tx.get(COLLECTION, _key(kind, object_id)) or {"acl": []}
    return _render(kind, object_id, doc["acl"])


def _require_manage(req: Request, kind: ObjectType, object_id: str) -> None:
    require(req, kind.path, object_id, f"{kind.object_type} {object_id}", manage=True)


@router.add("PUT", "/api/2.0/permissions/{type}/{id}", "permissions.set")
def set_(req: Request) -> Doc:
    kind, object_id = _object(req)
    _require_manage(req, kind, object_id)
    acl = _parse_acl(req, kind)
    req.tx.put(COLLECTION, _key(kind, object_id), {"acl": acl})
    return _render(kind, object_id, acl)


@router.add("PATCH", "/api/2.0/permissions/{type}/{id}", "permissions.update")
def update(req: Request) -> Doc:
    kind, object_id = _object(req)
    _require_manage(req, kind, object_id)
    doc = req.tx.get(COLLECTION, _key(kind, object_id)) or {"acl": []}
    acl = list(doc["acl"])
    for grant in _parse_acl(req, kind):
        who = (grant["principal_field"], grant["principal"])
        acl = [g for g in acl if (g["principal_field"], g["principal"]) != who]
        acl.append(grant)
    req.tx.put(COLLECTION, _key(kind, object_id), {"acl": acl})
    return _render(kind, object_id, acl)


@router.add("GET", "/api/2.0/permissions/{type}/{id}/permissionLevels", "permissions.levels")
def levels(req: Request) -> Doc:
    kind, _ = _object(req)
    return {
        "permission_levels": [
            {"permission_level": lvl, "description": desc} for lvl, desc in kind.levels.items()
        ]
    }
