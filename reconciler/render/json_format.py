"""The plan JSON contract (DESIGN.md): changes in execution order, unchanged assets absent.

Desired documents are not part of it (they are for apply and live in saved plan files).
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.model.changes import Change, Plan
from reconciler.model.secrets import mask_secrets


def change_dict(change: Change) -> dict[str, Any]:
    out: dict[str, Any] = {
        "address": change.address,
        "kind": change.kind,
        "name": change.name,
        "action": change.action.value,
        "diffs": [
            {"path": d.path, "before": mask_secrets(d.before), "after": mask_secrets(d.after)}
            for d in change.diffs
        ],
        "depends_on": list(change.depends_on),
    }
    if change.reason:
        out["reason"] = change.reason
    if change.carried:
        out["carried"] = list(change.carried)
    return out


def plan_dict(plan: Plan) -> dict[str, Any]:
    return {
        "format_version": plan.format_version,
        "project": plan.project,
        "target": plan.target,
        "changes": [change_dict(c) for c in plan.changes],
        "summary": plan.summary.model_dump(),
        "fingerprint": plan.fingerprint,
        "manifests": plan.manifests.model_dump() if plan.manifests is not None else None,
        "health": [h.model_dump(mode="json") for h in plan.health],
    }


def render_json(plan: Plan) -> str:
    return json.dumps(plan_dict(plan), indent=2, ensure_ascii=False) + "\n"
