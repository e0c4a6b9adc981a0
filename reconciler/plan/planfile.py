"""Plan files (``plan -o plan.json``): the plan JSON contract plus what apply needs.

Beyond the contract (format_version, target, changes, summary) a saved plan records the project,
each change's reason and desired document, and the fingerprint of the live state it was
computed from, so ``apply PLAN_FILE`` can refuse a plan the workspace has moved away from.
Diffs are already redacted by the planner. Desired documents are written sealed: every
``{{secrets/...}}`` reference becomes a salted-hash marker (``reconciler.plan.sealed``), and
``apply PLAN_FILE`` fills the references back from the manifests, refusing the plan when they
no longer hash the same. So no plan file names a secret.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reconciler.model.changes import FORMAT_VERSION, Plan
from reconciler.model.errors import PlanError
from reconciler.plan.sealed import seal


def to_dict(plan: Plan) -> dict[str, Any]:
    """The saved form: secret references in desired documents sealed."""
    return seal(plan).model_dump(mode="json")


def dumps(plan: Plan) -> str:
    return json.dumps(to_dict(plan), indent=2) + "\n"


def save(plan: Plan, path: Path | str) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(dumps(plan), encoding="utf-8")
    tmp.replace(target)
    return target


def loads(text: str, *, source: str = "plan") -> Plan:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(
            f"{source} is not JSON (line {exc.lineno}): {exc.msg}",
            hint="pass a file written by 'reconciler plan -o'",
        ) from None
    if not isinstance(data, dict) or "changes" not in data or "target" not in data:
        raise PlanError(
            f"{source} is not a reconciler plan", hint="pass a file written by 'reconciler plan -o'"
        )
    version = str(data.get("format_version", ""))
    if version != FORMAT_VERSION:
        raise PlanError(
            f"{source} has plan format {version!r}; this reconciler reads {FORMAT_VERSION!r}",
            hint="run 'reconciler plan -o' again with this version",
        )
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PlanError(f"{source}: invalid plan at {where}: {first['msg']}") from None


def load(path: Path | str) -> Plan:
    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"cannot read plan file {target}: {exc.strerror}") from None
    return loads(text, source=str(target))
