"""Saved plans are exact: ``apply PLAN_FILE`` applies a plan only when planning again now gives
exactly the saved one.

A plan file is an artifact that travels (CI uploads, attachments) and is plain JSON anyone can
edit, so apply never executes what the file says. It plans again from the manifests and the
live workspace, and applies that fresh plan only when it matches the file field for field: the
same project and target, the same manifest files (``ManifestDigest``), the same live state
(``fingerprint``) and the same changes in the same order (address, kind, name, action, diffs,
dependencies, reason, the live fields carried, and the desired document, whose sealed secrets
must hash to the references planned now). Otherwise the plan is refused before any write, and
the error names the first difference, e.g. ``change 3 (serving_endpoint.x): action is delete
in the plan file, update now``.
"""

from __future__ import annotations

import json
from itertools import zip_longest
from typing import Any

from reconciler.model.changes import Change, Plan, Summary, summarize
from reconciler.model.errors import ApplyError
from reconciler.model.secrets import mask_secrets
from reconciler.plan.sealed import first_mismatch

NOTHING = "; nothing was applied"
FIELDS = (
    "address",
    "kind",
    "name",
    "action",
    "diffs",
    "depends_on",
    "reason",
    "carried",
    "desired",
)
"""What must match, compared in this order (the first difference is the one named). ``carried``
is what the reviewer was told a write keeps from live: a file that hides a carried field (or
invents one) is not the plan that runs."""


def _hint(target: str, source: str) -> str:
    return f"run 'reconciler plan -t {target} -o {source}' again, review it, then apply it"


def check_identity(saved: Plan, project: str, target: str, source: str) -> None:
    """What can be checked before reading anything: the plan is for this project and target,
    records its manifests, and its summary counts its own changes."""
    if saved.target != target:
        raise ApplyError(
            f"{source} was made for target {saved.target!r}, not {target!r}{NOTHING}",
            hint=f"pass -t {saved.target}, or plan again for {target}",
        )
    if saved.project != project:
        raise ApplyError(
            f"{source} was made for project {saved.project!r}, not {project!r}{NOTHING}",
            hint=_hint(target, source),
        )
    if saved.manifests is None:
        raise ApplyError(
            f"{source} records no manifest digest (an older reconciler wrote it){NOTHING}",
            hint=_hint(target, source),
        )
    counted = summarize(saved.changes)
    if counted != saved.summary:
        raise ApplyError(
            f"{source}: its summary ({_counts(saved.summary)}) does not count its changes"
            f" ({_counts(counted)}){NOTHING}",
            hint=_hint(target, source),
        )


def check_exact(saved: Plan, fresh: Plan, source: str) -> None:
    """Raise ApplyError naming the first difference unless ``fresh`` (planned now, under the
    apply lock) is ``saved`` (read from ``source``)."""
    target = fresh.target
    check_identity(saved, fresh.project, target, source)
    assert saved.manifests is not None  # check_identity refuses a plan without them
    difference = first_difference(saved, fresh)
    if saved.manifests != fresh.manifests:
        changed = fresh.manifests.changes_since(saved.manifests) if fresh.manifests else []
        what = ", ".join(changed) if changed else "the digest in the file does not match its files"
        detail = f" ({difference})" if difference else ""
        raise ApplyError(
            f"{source} was planned from other manifests: {what}{detail}{NOTHING}",
            hint=_hint(target, source),
        )
    if saved.fingerprint is None or saved.fingerprint != fresh.fingerprint:
        detail = f" ({difference})" if difference else ""
        raise ApplyError(
            f"{source} is stale: the live workspace changed since it was planned{detail}{NOTHING}",
            hint=_hint(target, source),
        )
    if difference is not None:
        raise ApplyError(
            f"{source} is not the plan the manifests and the workspace give now: {difference}"
            f"{NOTHING}",
            hint=_hint(target, source),
        )


def first_difference(saved: Plan, fresh: Plan) -> str | None:
    """The first change (1-based, in execution order) that differs, in words."""
    now_at = {c.address: i for i, c in enumerate(fresh.changes, start=1)}
    pairs = zip_longest(saved.changes, fresh.changes)
    for index, (old, new) in enumerate(pairs, start=1):
        if old is None:
            assert new is not None
            return (
                f"change {index} ({new.address}, {new.action.value}) is planned now but is"
                " not in the plan file"
            )
        if new is None:
            return (
                f"change {index} ({old.address}, {old.action.value}) is in the plan file but"
                " is not planned now"
            )
        if old.address != new.address:
            where = now_at.get(old.address)
            moved = (
                f"; {old.address} is change {where} now"
                if where is not None
                else f"; {old.address} has no change planned now"
            )
            return f"change {index} is {old.address} in the plan file, {new.address} now{moved}"
        found = change_difference(old, new)
        if found is not None:
            return f"change {index} ({old.address}): {found}"
    if saved.summary != fresh.summary:
        return (
            f"the summary is {_counts(saved.summary)} in the plan file,"
            f" {_counts(fresh.summary)} now"
        )
    return None


def change_difference(saved: Change, fresh: Change) -> str | None:
    """The first field of one change that differs (values masked; desired documents by path
    only, since they hold what the manifests hold)."""
    old, new = _json(saved), _json(fresh)
    for field in FIELDS:
        mismatch = first_mismatch(old.get(field), new.get(field))
        if mismatch is None:
            continue
        path, secret = mismatch
        if field == "desired":
            if secret:
                return f"the secret reference at desired {path} is not what the manifests say now"
            return f"the desired document differs at {path or '(the whole document)'}"
        if field == "diffs":
            return _diffs_difference(old["diffs"], new["diffs"])
        before, now = old.get(field), new.get(field)
        if isinstance(before, str) and isinstance(now, str):
            return f"{field} is {_clip(before)} in the plan file, {_clip(now)} now"
        return f"{field} is {_show(before)} in the plan file, {_show(now)} now"
    return None


def _diffs_difference(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> str:
    old_paths, new_paths = [d["path"] for d in old], [d["path"] for d in new]
    if old_paths != new_paths:
        return f"diffs are on {_show(old_paths)} in the plan file, {_show(new_paths)} now"
    for saved, fresh in zip(old, new, strict=True):
        if first_mismatch(saved, fresh) is None:
            continue
        for side in ("before", "after"):
            found = first_mismatch(saved.get(side), fresh.get(side))
            if found is not None and found[0]:
                # Inside an object: name the innermost field that differs, and its two values.
                sub = found[0]
                was, now = _at(saved.get(side), sub), _at(fresh.get(side), sub)
                return (
                    f"field {saved['path']}.{sub} ({side}) is {_show(was)} in the plan file,"
                    f" {_show(now)} now"
                )
        return (
            f"field {saved['path']} is {_show(saved.get('before'))} ->"
            f" {_show(saved.get('after'))} in the plan file, {_show(fresh.get('before'))}"
            f" -> {_show(fresh.get('after'))} now"
        )
    return "diffs differ"


def _at(value: Any, path: str) -> Any:
    """The value at a dotted path (as ``first_mismatch`` names it); None where it is absent."""
    for key in path.split("."):
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    return value


def _json(change: Change) -> dict[str, Any]:
    """A change in its plan-file form, so a fresh change compares like one read back."""
    data: dict[str, Any] = json.loads(change.model_dump_json())
    return data


def _show(value: Any) -> str:
    return _clip(json.dumps(mask_secrets(value), ensure_ascii=False, separators=(", ", ": ")))


def _clip(text: str) -> str:
    text = str(mask_secrets(text))
    return text if len(text) <= 200 else text[:197] + "..."


def _counts(s: Summary) -> str:
    return (
        f"{s.create} create, {s.adopt} adopt, {s.update} update, {s.replace} replace,"
        f" {s.delete} delete"
    )
