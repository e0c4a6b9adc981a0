"""Choose live assets by kind and name pattern, read them, and shape them as manifest entries
(each kind says how: ``KindRules.import_entry``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from pydantic import ValidationError

from reconciler.kinds.manifest_file import ManifestFile
from reconciler.kinds.registry import importable_kinds, rules_for
from reconciler.model.live import ReadRequest, Workspace
from reconciler.model.resources import KindName

IMPORTABLE = importable_kinds()
"""Kinds written on their own; aliases come with their registered model (``aliases:``)."""


@dataclass
class ImportResult:
    entries: dict[KindName, list[dict[str, Any]]] = field(default_factory=dict)
    """Manifest entries per kind, sorted by name."""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(address, why) of matching assets that were not written."""
    unwritten: list[tuple[str, str]] = field(default_factory=list)
    """(address, field) of live fields of written assets that no manifest can express (apply
    keeps them at their live values)."""
    unowned: list[str] = field(default_factory=list)
    """Addresses of written assets that no project owns yet: the next plan adopts them."""

    def count(self) -> int:
        return sum(len(v) for v in self.entries.values())


def _problem(kind: KindName, entry: Mapping[str, Any]) -> str | None:
    """Why the entry is not a valid manifest entry (None when it is)."""
    try:
        ManifestFile.model_validate({rules_for(kind).manifest_key: [entry]})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][2:])
        return f"not expressible as a manifest ({where}: {first['msg']})"
    return None


def import_assets(
    workspace: Workspace,
    kinds: Sequence[KindName],
    *,
    pattern: str = "*",
    project: str | None = None,
    declared: Collection[str] = (),
) -> ImportResult:
    """Manifest entries for the live assets of ``kinds`` whose names match ``pattern``.

    Assets another project owns are skipped (two projects cannot manage one asset), as are
    assets only Databricks defines (pay-per-token endpoints: import their rate limits as a
    ``quota``; ``system`` catalog models). So are the addresses in ``declared`` (already in
    manifests). Grants and Vector Search endpoint permissions are read and written with their
    assets.
    """
    result = ImportResult()
    for kind in kinds:
        if kind not in workspace.capabilities:
            continue
        rules = rules_for(kind)
        names = [n for n in workspace.list_names(kind) if fnmatchcase(n, pattern)]
        request = ReadRequest(
            assets=[(kind, n) for n in names],
            extra={read: tuple(names) for read in rules.import_reads},
        )
        live = workspace.read(request)
        entries = []
        for name in names:
            asset = live.assets.get(f"{kind.value}.{name}")
            if asset is None:
                continue
            if asset.address in declared:
                result.skipped.append((asset.address, "already declared in the manifests"))
                continue
            if asset.owner is not None and project is not None and asset.owner != project:
                result.skipped.append((asset.address, f"owned by project {asset.owner!r}"))
                continue
            why = rules.import_skip(asset)
            if why is not None:
                result.skipped.append((asset.address, why))
                continue
            entry = rules.import_entry(asset)
            if entry is None:
                continue
            problem = _problem(kind, entry)
            if problem is not None:
                result.skipped.append((asset.address, problem))
                continue
            # Secret references are written as they are: a reference names where a secret is
            # kept, never its value, and a manifest needs it (only commands' output masks it).
            entries.append(entry)
            if asset.owner is None:
                result.unowned.append(asset.address)
            result.unwritten.extend((asset.address, path) for path in asset.unmodelled)
        if entries:
            result.entries[kind] = entries
    return result
