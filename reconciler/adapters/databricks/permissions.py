"""Object permissions on the wire, both ways: an ``access_control_list`` into manifest entries
``{user|group|service_principal, level}`` (direct grants only; inherited ones are the
workspace's) and back, and the call that replaces an object's direct grants."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.adapters.databricks.sdk import WorkspaceClient
from reconciler.kinds.serving_endpoint import canonical_permissions
from reconciler.runtime import retry

API = "/api/2.0/permissions"
Doc = dict[str, Any]
PRINCIPALS = (
    ("user_name", "user"),
    ("group_name", "group"),
    ("service_principal_name", "service_principal"),
)
"""``(API field, manifest field)`` of the principal an entry names."""


def normalize_permissions(acl: Any) -> list[dict[str, str]]:
    """Direct (not inherited) ACL entries as ``{user|group|service_principal, level}``."""
    out = []
    for entry in acl or []:
        principal = next(((ours, entry[api]) for api, ours in PRINCIPALS if entry.get(api)), None)
        if principal is None:
            continue
        levels = entry.get("all_permissions")
        if levels is None and entry.get("permission_level"):
            levels = [{"permission_level": entry["permission_level"], "inherited": False}]
        for level in levels or []:
            if not level.get("inherited"):
                out.append({principal[0]: principal[1], "level": level["permission_level"]})
    return canonical_permissions(out)


def acl(perms: Sequence[Mapping[str, Any]]) -> list[Doc]:
    """Manifest permissions as an ``access_control_list`` (``normalize_permissions``' inverse)."""
    out = []
    for p in perms:
        entry = {api: p[ours] for api, ours in PRINCIPALS if ours in p}
        entry["permission_level"] = p["level"]
        out.append(entry)
    return out


def put_permissions(
    client: WorkspaceClient, object_type: str, object_id: str, perms: Sequence[Mapping[str, Any]]
) -> None:
    """Replace every direct grant on the object with ``perms`` (inherited ones stay)."""
    body = {"access_control_list": acl(perms)}
    retry.call(
        lambda: client.api_client.do("PUT", f"{API}/{object_type}/{object_id}", body=body),
        what="setting permissions",
    )
