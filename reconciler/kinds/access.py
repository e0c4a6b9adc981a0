"""Keeping the deploying identity's own access to what it manages.

Terraform and Asset Bundles always keep the identity that deploys at CAN_MANAGE on what they
manage: an ACL that drops it (the manifests list the team's groups, not the CI service
principal) would lock the next deploy out. So wherever the manifests set permissions, the
identity running the plan gets a CAN_MANAGE entry, shown in the plan like any other. Only an
explicit entry of the manifest for that identity says otherwise, and the plan then says so
loudly (``lowered``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.kinds.rules import DesiredContext, under
from reconciler.model.changes import FieldDiff
from reconciler.model.live import ExtraRead

MANAGE = "CAN_MANAGE"
PRINCIPALS = ("user", "group", "service_principal")


def _key(kind: str, name: str) -> tuple[str, str]:
    """Users are emails, matched as Databricks matches them: ignoring case."""
    return kind, name.lower() if kind == "user" else name


def entries_for(
    perms: Sequence[Mapping[str, Any]], caller: Mapping[str, str]
) -> list[Mapping[str, Any]]:
    """The entries naming ``caller`` (``{"user": ...}`` or ``{"service_principal": ...}``)."""
    wanted = {_key(k, v) for k, v in caller.items()}
    return [p for p in perms if any(_key(k, str(p[k])) in wanted for k in PRINCIPALS if p.get(k))]


def keep_deployer(
    perms: Sequence[Mapping[str, Any]], caller: Mapping[str, str] | None
) -> list[dict[str, Any]]:
    """``perms`` plus CAN_MANAGE for ``caller`` unless an entry already names it."""
    out = [dict(p) for p in perms]
    if caller and not entries_for(perms, caller):
        out.append({**caller, "level": MANAGE})
    return out


def lowered(perms: Sequence[Mapping[str, Any]], caller: Mapping[str, str] | None) -> str | None:
    """A warning when the manifests name the deploying identity below CAN_MANAGE."""
    if not caller:
        return None
    mine = entries_for(perms, caller)
    if not mine or any(p.get("level") == MANAGE for p in mine):
        return None
    who = ", ".join(f"{k} {v}" for k, v in caller.items())
    levels = ", ".join(sorted({str(p.get("level")) for p in mine}))
    return (
        f"CAUTION: the permissions lower the deploying identity ({who}) to {levels}: once"
        " applied, it can no longer change this asset, and the next apply by it is refused"
        " (403) unless a workspace admin restores its CAN_MANAGE"
    )


class DeployerKeepsAccess:
    """For the rules of a kind with ``permissions`` (serving and Vector Search endpoints)."""

    def extra_reads(self, doc: Mapping[str, Any]) -> frozenset[ExtraRead]:
        """Permissions live behind the endpoint id: read them only when the manifest sets them,
        and then who runs the plan (its own CAN_MANAGE is kept)."""
        if "permissions" not in doc:
            return frozenset()
        return frozenset({ExtraRead.PERMISSIONS, ExtraRead.CALLER})

    def caution(
        self, doc: Mapping[str, Any], diffs: Sequence[FieldDiff], ctx: DesiredContext
    ) -> str | None:
        """Loud when the permissions being written lower the deploying identity's own access."""
        if "permissions" not in doc or not any(under(d.path, ("permissions",)) for d in diffs):
            return None
        return lowered(doc["permissions"], ctx.caller)
