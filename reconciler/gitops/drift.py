"""Drift: where the live workspace no longer matches the manifests, said from the live side.

A drift report is a plan read the other way round. The plan says what apply would change; the
report says what someone changed (or removed, or left behind) outside this repository: for each
asset the field, the live value and the manifest value. Ignore rules are already applied by the
planner, so a field a target lets others own never shows here. An asset nobody owns whose
fields match (an adopt without diffs) is not drift: the manifests and the workspace agree.

Beside drift, the report lists the declared assets that are not healthy (``health``): a
degraded asset makes ``drift`` exit 2 like drift does, since no one may notice it otherwise;
one that is progressing (provisioning, deploying) is listed but not counted.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from reconciler.model.changes import Action, Change, Plan
from reconciler.model.health import AssetHealth

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
    Action.ADOPT: Status.DIFFERS,
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
    health: tuple[AssetHealth, ...] = ()

    @property
    def in_sync(self) -> bool:
        return not self.drifted

    @property
    def degraded(self) -> tuple[AssetHealth, ...]:
        return tuple(h for h in self.health if h.degraded)

    @property
    def healthy(self) -> bool:
        """No declared asset is degraded (progressing ones do not count)."""
        return not self.degraded

    @property
    def clean(self) -> bool:
        """In sync and healthy: ``drift`` exits 0."""
        return self.in_sync and self.healthy

    def to_json(self) -> str:
        data = self.model_dump(mode="json")
        data["in_sync"] = self.in_sync
        data["healthy"] = self.healthy
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
    if change.action is Action.ADOPT:
        note = "no project owns it; apply adopts it (writes this project's ownership marker)"
    return AssetDrift(
        address=change.address,
        kind=change.kind,
        name=change.name,
        status=status,
        fields=fields,
        note=note,
    )


def drift_from_plan(plan: Plan) -> DriftReport:
    """Every change the plan holds is drift (the workspace differs from the manifests), but
    an adopt without diffs; the plan's health list comes along."""
    changes = sorted(plan.changes, key=lambda c: c.address)
    drifted = tuple(_asset(c) for c in changes if c.action is not Action.ADOPT or c.diffs)
    return DriftReport(
        project=plan.project, target=plan.target, drifted=drifted, health=plan.health
    )


def show(value: Any) -> str:
    """A value as one short line: JSON for structures, ``(unset)`` for absent."""
    if value is None:
        return "(unset)"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(", ", ": "))


def render_text(report: DriftReport) -> str:
    if report.in_sync and not report.health:
        return f"target {report.target}: in sync with the manifests (no drift)\n"
    count = len(report.drifted)
    if report.in_sync:
        lines = [f"target {report.target}: in sync with the manifests (no drift)", ""]
    else:
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
    if report.health:
        if report.drifted:
            lines.append("")
        lines.append(_health_heading(report))
        lines += [f"  {h.address} {h.status.value}: {h.message}" for h in report.health]
    lines.append("")
    if not report.in_sync:
        lines.append("exit 2: drift; `reconciler apply` restores the manifest values")
    if not report.healthy:
        lines.append(
            "exit 2: degraded assets; apply does not repair them: read each message"
            " (a failed update, a stopped endpoint) and act on the workspace"
        )
    return "\n".join(lines) + "\n"


def _health_heading(report: DriftReport) -> str:
    degraded, count = len(report.degraded), len(report.health)
    return (
        f"{count} declared asset{'s are' if count != 1 else ' is'} not healthy"
        f" ({degraded} degraded, {count - degraded} progressing):"
    )


def _cell(value: Any) -> str:
    text = show(value).replace("|", "\\|").replace("\n", " ")
    if len(text) > 120:
        text = text[:117] + "..."
    return f"`{text}`" if "`" not in text else text


def render_markdown(report: DriftReport) -> str:
    if report.in_sync and not report.health:
        return f"**No drift**: target `{report.target}` matches the manifests.\n"
    if report.in_sync:
        lines = [f"**No drift**: target `{report.target}` matches the manifests.", ""]
    else:
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
    if report.health:
        lines += [
            "",
            f"**Health**: {_health_heading(report)}",
            "",
            "| asset | health | message |",
            "|---|---|---|",
        ]
        lines += [
            f"| `{h.address}` | {h.status.value} | {_cell(h.message)} |" for h in report.health
        ]
    return "\n".join(lines) + "\n"


RENDERERS = {"text": render_text, "json": DriftReport.to_json, "markdown": render_markdown}


def render(report: DriftReport, fmt: str) -> str:
    return RENDERERS[fmt](report)
