"""Drift: where the live workspace no longer matches the manifests, said from the live side.

A drift report is a plan read the other way round. The plan says what apply would change; the
report says what someone changed (or removed, or left behind) outside this repository: for each
asset the field, the live value and the manifest value. Ignore rules are already applied by the
planner, so a field a target lets others own never shows here.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from reconciler.model.changes import Action, Change, Plan

FORMAT_VERSION = "1"


class Status(StrEnum):
    DIFFERS = "differs"
    """Exists, but fields differ; apply updates it in place."""
    REBUILD = "rebuild"
    """Differs in a field that cannot change in place; apply would replace it."""
    MISSING = "missing"
    """Declared in the manifests, absent from the workspace (deleted by hand, or never applied)."""
    EXTRA = "extra"
    """Owned by this project, no longer declared, still live (on a target with prune)."""


_STATUS = {
    Action.UPDATE: Status.DIFFERS,
    Action.REPLACE: Status.REBUILD,
    Action.CREATE: Status.MISSING,
    Action.DELETE: Status.EXTRA,
}
_SYMBOL = {Status.DIFFERS: "~", Status.REBUILD: "!", Status.MISSING: "-", Status.EXTRA: "+"}
_SAYS = {
    Status.DIFFERS: "differs from the manifest",
    Status.REBUILD: "differs in a field that cannot change in place",
    Status.MISSING: "is declared but missing from the workspace",
    Status.EXTRA: "is live and owned by this project but no longer declared",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class FieldDrift(_Frozen):
    path: str
    live: Any = None
    manifest: Any = None


class AssetDrift(_Frozen):
    address: str
    kind: str
    name: str
    status: Status
    fields: tuple[FieldDrift, ...] = ()
    note: str | None = None


class DriftReport(_Frozen):
    format_version: str = FORMAT_VERSION
    project: str = ""
    target: str
    drifted: tuple[AssetDrift, ...] = ()

    @property
    def in_sync(self) -> bool:
        return not self.drifted

    def to_json(self) -> str:
        data = self.model_dump(mode="json")
        data["in_sync"] = self.in_sync
        data["summary"] = {s.value: sum(1 for a in self.drifted if a.status is s) for s in Status}
        return json.dumps(data, indent=2, sort_keys=False) + "\n"


def _asset(change: Change) -> AssetDrift:
    status = _STATUS[change.action]
    if status is Status.MISSING:
        fields: tuple[FieldDrift, ...] = ()
    else:
        fields = tuple(
            FieldDrift(path=d.path, live=d.before, manifest=d.after) for d in change.diffs
        )
    note = change.reason if status in (Status.REBUILD, Status.EXTRA) else None
    return AssetDrift(
        address=change.address,
        kind=change.kind,
        name=change.name,
        status=status,
        fields=fields,
        note=note,
    )


def drift_from_plan(plan: Plan) -> DriftReport:
    """Every change the plan holds is drift: the workspace differs from the manifests."""
    drifted = tuple(_asset(c) for c in sorted(plan.changes, key=lambda c: c.address))
    return DriftReport(project=plan.project, target=plan.target, drifted=drifted)


def show(value: Any) -> str:
    """A value as one short line: JSON for structures, ``(unset)`` for absent."""
    if value is None:
        return "(unset)"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(", ", ": "))


def render_text(report: DriftReport) -> str:
    if report.in_sync:
        return f"target {report.target}: in sync with the manifests (no drift)\n"
    count = len(report.drifted)
    lines = [f"target {report.target}: {count} asset{'s' if count != 1 else ''} drifted", ""]
    for asset in report.drifted:
        lines.append(f"{_SYMBOL[asset.status]} {asset.address} {_SAYS[asset.status]}")
        width = max((len(f.path) for f in asset.fields), default=0)
        for field in asset.fields:
            lines.append(
                f"    {field.path.ljust(width)}  live: {show(field.live)}"
                f"  manifest: {show(field.manifest)}"
            )
        if asset.note:
            lines.append(f"    note: {asset.note}")
    lines += ["", "exit 2: drift; `reconciler apply` restores the manifest values"]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    text = show(value).replace("|", "\\|").replace("\n", " ")
    if len(text) > 120:
        text = text[:117] + "..."
    return f"`{text}`" if "`" not in text else text


def render_markdown(report: DriftReport) -> str:
    if report.in_sync:
        return f"**No drift**: target `{report.target}` matches the manifests.\n"
    lines = [
        f"**Drift on `{report.target}`**: {len(report.drifted)} asset(s) differ from the "
        "manifests.",
        "",
        "| asset | status | field | live | manifest |",
        "|---|---|---|---|---|",
    ]
    for asset in report.drifted:
        rows = asset.fields or (None,)
        for field in rows:
            path = f"`{field.path}`" if field else ""
            live = _cell(field.live) if field else ""
            manifest = _cell(field.manifest) if field else ""
            lines.append(
                f"| `{asset.address}` | {asset.status.value} | {path} | {live} | {manifest} |"
            )
    notes = [a for a in report.drifted if a.note]
    if notes:
        lines.append("")
        lines += [f"- `{a.address}`: {a.note}" for a in notes]
    return "\n".join(lines) + "\n"


RENDERERS = {"text": render_text, "json": DriftReport.to_json, "markdown": render_markdown}


def render(report: DriftReport, fmt: str) -> str:
    return RENDERERS[fmt](report)
