"""One YAML file per kind, in a stable order, refusing to overwrite unless asked."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from reconciler.kinds.registry import importable_kinds, rules_for
from reconciler.manifest.inputs import NotWritable, write_atomically
from reconciler.model.errors import ReconcilerError
from reconciler.model.resources import KindName

SCHEMA_LINE = "# yaml-language-server: $schema={schema}\n"


class _Dumper(yaml.SafeDumper):
    """Block style, with strings that look like other YAML types quoted (the default)."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def render(
    kind: KindName, entries: list[dict[str, Any]], *, target: str, schema: str | None
) -> str:
    header = SCHEMA_LINE.format(schema=schema) if schema else ""
    header += f"# Imported from target {target} by `reconciler import`. Review before committing.\n"
    body = yaml.dump(
        {rules_for(kind).manifest_key: entries},
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )
    return header + body


def write_files(
    entries: Mapping[KindName, list[dict[str, Any]]],
    out: Path,
    *,
    target: str,
    force: bool = False,
    schema: str | None = None,
) -> list[Path]:
    paths = {kind: out / f"{rules_for(kind).manifest_key}.yaml" for kind in entries}
    existing = sorted(str(p) for p in paths.values() if p.exists())
    if existing and not force:
        raise ReconcilerError(
            f"would overwrite {', '.join(existing)}",
            hint="pass --force, or choose another --out directory",
        )
    written = []
    for kind in sorted(entries, key=importable_kinds().index):
        path = paths[kind]
        try:
            write_atomically(path, render(kind, entries[kind], target=target, schema=schema))
        except NotWritable as exc:
            raise ReconcilerError(
                f"cannot write {path}: {exc.reason}", hint="choose another --out directory"
            ) from None
        written.append(path)
    return written
