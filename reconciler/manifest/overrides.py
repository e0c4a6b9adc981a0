"""Per-target overrides: any field of any asset can differ on one target without copying the
manifest, the way Asset Bundles' ``targets:`` sections do.

Two places hold them, with one shape: a manifest file's top-level ``targets:`` section, and a
target's ``overrides:`` in ``reconciler.yaml``::

    targets:                        # in a manifest file (beside the assets it changes)
      prod:
        serving_endpoints:
          support-intent:           # the asset's name on that target (${var.x} allowed)
            served_entities:
              - {name: champion, workload_size: Large}
            email_notifications: {on_update_failure: [oncall@example.com]}

An override is merged into the asset's manifest entry before the entry is validated, so every
rule of the kind applies to the result and every value keeps the file:line:col it was written
at. Mappings merge key by key; a list of entries with a ``name`` (served entities) merges entry by
entry, by name (a new name adds an entry); any other list, a scalar, or a field the kind replaces
whole (a serving endpoint's ``traffic``) replaces the base value; ``null`` unsets a field. The
name of the asset cannot be overridden. Two overrides of one target that set the same field (or
one inside the other) are an error naming both places; so is an override of an asset no manifest
declares, of an unknown kind, or for a target the project does not have. Sections for other
targets are neither interpolated nor applied.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.kinds.external_model import SECRET_HINT, plaintext_paths
from reconciler.kinds.registry import manifest_kinds
from reconciler.kinds.rules import KindRules
from reconciler.manifest.document import PathKey, Positions
from reconciler.model.errors import Location, ManifestError
from reconciler.project import Project

SECTION = "targets"
"""The top-level key of a manifest file holding its overrides, by target."""
OVERRIDES = "overrides"
"""The key of a target in ``reconciler.yaml`` holding its overrides."""
Interpolate = Callable[[str, Location, str], Any]


@dataclass
class Parsed:
    """One manifest file, parsed and interpolated, before validation."""

    path: str
    value: dict[str, Any]
    positions: Positions


@dataclass
class Override:
    """What one place says one asset is on one target."""

    key: str
    """The manifest key (``serving_endpoints``)."""
    name: str
    value: dict[str, Any]
    root: PathKey
    """Where ``value`` sits in ``positions``."""
    positions: Positions
    where: Location
    """Where the asset's name was written in the override."""


@dataclass
class _Touched:
    """Fields the overrides of one asset set so far (list entries by name), and by which."""

    by_path: dict[tuple[str, ...], tuple[int, Location]] = field(default_factory=dict)
    current: int = 0
    """Which override is being merged (its place in the list)."""

    def claim(self, path: tuple[str, ...], where: Location, what: str) -> None:
        for other, (owner, at) in self.by_path.items():
            n = min(len(other), len(path))
            if other[:n] == path[:n] and (owner != self.current or other == path):
                raise ManifestError(
                    f"{what}: two overrides for this target set {'.'.join(path[:n])}:"
                    f" here and at {at}",
                    location=where,
                    hint="keep one override of each field per target",
                )
        self.by_path[path] = (self.current, where)


def _rules(key: str) -> KindRules | None:
    return next((r for r in manifest_kinds() if r.manifest_key == key), None)


def _keys() -> list[str]:
    return [str(r.manifest_key) for r in manifest_kinds()]


def skip_other_targets(target: str) -> Callable[[PathKey], bool]:
    """For the YAML loader: the sections of other targets stay as written."""

    def skip(path: PathKey) -> bool:
        return len(path) >= 2 and path[0] == SECTION and path[1] != target

    return skip


def from_manifest(parsed: Parsed, project: Project, target: str) -> list[Override]:
    """The file's overrides for ``target``, its section taken out of ``parsed.value``; every
    target the section names must be one of the project's."""
    section = parsed.value.pop(SECTION, None)
    if section is None:
        return []
    pos = parsed.positions
    if not isinstance(section, dict):
        raise ManifestError(
            f"{SECTION} is a mapping of target names to overrides",
            location=pos.find((SECTION,)),
        )
    for name in section:
        if name not in project.targets:
            known = ", ".join(project.targets)
            raise ManifestError(
                f"overrides for target {name!r}, which {project.file} does not declare"
                f" (targets: {known})",
                location=pos.keys.get((SECTION, name)) or pos.find((SECTION,)),
                hint=_close(name, list(project.targets)),
            )
    for name, value in section.items():
        if name != target:
            refuse_plaintext(value, (SECTION, name), pos)
    if target not in section:
        return []
    return list(_overrides(section[target], (SECTION, target), pos))


def refuse_plaintext(value: Any, root: PathKey, pos: Positions) -> None:
    """Another target's overrides are neither interpolated nor validated, but a plaintext
    credential in them is refused whatever the target: it is in the repository either way."""
    for path in plaintext_paths(value):
        field = str(path[-1]).removesuffix("_plaintext")
        raise ManifestError(
            f"{field} must be a secret reference {{{{secrets/scope/key}}}} (override for target"
            f" {root[1]!r}); a plaintext credential is not accepted (the value is not shown)",
            location=pos.find((*root, *path), key=str(path[-1]).endswith("_plaintext")),
            hint=SECRET_HINT.format(field=field),
        )


def from_project(project: Project, target: str, interpolate: Interpolate) -> list[Override]:
    """The target's ``overrides:`` in ``reconciler.yaml``, interpolated for it."""
    pos = project.positions
    if not isinstance(pos, Positions):
        pos = Positions(project.file)
    for name, other in project.targets.items():
        if name != target and other.overrides:
            refuse_plaintext(other.overrides, ("targets", name, OVERRIDES), pos)
    overrides = project.targets[target].overrides
    if not overrides:
        return []
    root: PathKey = ("targets", target, OVERRIDES)
    value = _interpolated(overrides, root, pos, interpolate)
    return list(_overrides(value, root, pos))


def _interpolated(value: Any, path: PathKey, pos: Positions, interpolate: Interpolate) -> Any:
    """The project file is read without a target: its overrides are interpolated here."""
    if isinstance(value, str) and "${" in value:
        return interpolate(value, pos.find(path), "")
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            sub = (*path, key)
            new_key = key
            if "${" in key:
                new_key = str(interpolate(key, pos.keys.get(sub) or pos.find(path), ""))
                _move(pos, sub, (*path, new_key))
            out[new_key] = _interpolated(item, (*path, new_key), pos, interpolate)
        return out
    if isinstance(value, list):
        return [_interpolated(v, (*path, i), pos, interpolate) for i, v in enumerate(value)]
    return value


def _move(pos: Positions, old: PathKey, new: PathKey) -> None:
    for table in (pos.values, pos.keys):
        for path in [p for p in table if p[: len(old)] == old]:
            table[(*new, *path[len(old) :])] = table.pop(path)


def _overrides(value: Any, root: PathKey, pos: Positions) -> Iterator[Override]:
    if not isinstance(value, dict):
        raise ManifestError(
            "a target's overrides are a mapping of manifest keys"
            f" ({', '.join(_keys())}) to assets by name",
            location=pos.find(root),
        )
    for key, assets in value.items():
        if _rules(key) is None:
            raise ManifestError(
                f"overrides of {key!r}, which is not a manifest key ({', '.join(_keys())})",
                location=pos.keys.get((*root, key)) or pos.find(root),
                hint=_close(key, _keys()),
            )
        if not isinstance(assets, dict):
            raise ManifestError(
                f"overrides of {key} are a mapping of asset names to the fields that differ",
                location=pos.find((*root, key)),
            )
        for name, fields in assets.items():
            at = (*root, key, name)
            if not isinstance(fields, dict):
                raise ManifestError(
                    f"the override of {name!r} is a mapping of the fields that differ",
                    location=pos.find(at),
                )
            where = pos.keys.get(at) or pos.find(at)
            yield Override(str(key), str(name), fields, at, pos, where)


def apply(files: list[Parsed], overrides: list[Override]) -> None:
    """Merge every override into the entry it names (in place, positions included)."""
    touched: dict[tuple[str, str], _Touched] = {}
    for number, override in enumerate(overrides):
        rules = _rules(override.key)
        assert rules is not None
        file, index = _find(files, override, rules)
        entry = file.value[override.key][index]
        what = f"{rules.noun} {override.name!r}"
        claims = touched.setdefault((override.key, override.name), _Touched())
        claims.current = number
        _merge(
            entry,
            override.value,
            _Cursor(file.positions, (override.key, index), override.positions, override.root),
            rules,
            claims,
            what,
            (),
        )


def _find(files: list[Parsed], override: Override, rules: KindRules) -> tuple[Parsed, int]:
    names = []
    for file in files:
        for index, entry in enumerate(file.value.get(override.key) or []):
            if isinstance(entry, dict):
                name = entry.get(rules.name_field)
                if name == override.name:
                    return file, index
                names.append(str(name))
    raise ManifestError(
        f"override of {rules.noun} {override.name!r}, which no manifest declares",
        location=override.where,
        hint=_close(override.name, names)
        or f"overrides change assets the manifests declare, by their {rules.name_field}",
    )


@dataclass(frozen=True)
class _Cursor:
    """Where the merged value sits in the base file and in the override's positions."""

    base: Positions
    base_path: PathKey
    over: Positions
    over_path: PathKey

    def down(self, base_part: str | int, over_part: str | int) -> _Cursor:
        return _Cursor(
            self.base, (*self.base_path, base_part), self.over, (*self.over_path, over_part)
        )

    def replace(self) -> None:
        """The base value here is replaced: its positions go, the override's take its place."""
        n = len(self.base_path)
        for table in (self.base.values, self.base.keys):
            for path in [p for p in table if p[:n] == self.base_path]:
                del table[path]
        m = len(self.over_path)
        for path, loc in list(self.over.values.items()):
            if path[:m] == self.over_path:
                self.base.values[(*self.base_path, *path[m:])] = loc
        for path, loc in list(self.over.keys.items()):
            if path[:m] == self.over_path:
                self.base.keys[(*self.base_path, *path[m:])] = loc


def _merge(
    base: dict[str, Any],
    over: Mapping[str, Any],
    cursor: _Cursor,
    rules: KindRules,
    claims: _Touched,
    what: str,
    logical: tuple[str, ...],
) -> None:
    for key, new in over.items():
        here = cursor.down(key, key)
        path = (*logical, str(key))
        where = cursor.over.keys.get(here.over_path) or cursor.over.find(here.over_path)
        if not logical and key == rules.name_field:
            if new != base.get(key):
                raise ManifestError(
                    f"{what}: an override cannot change the {key} (it names the asset)",
                    location=where,
                    hint="declare another asset instead",
                )
            continue
        old = base.get(key)
        if new is None:  # unsets the field for this target
            claims.claim(path, where, what)
            base.pop(key, None)
            here.replace()
            continue
        whole = not logical and key in rules.replaced_on_override
        if isinstance(new, dict) and isinstance(old, dict) and not whole:
            _merge(old, new, here, rules, claims, what, path)
        elif isinstance(old, list) and _by_name(new) and _by_name(old) and not whole:
            _merge_entries(old, new, here, rules, claims, what, path)
        else:
            claims.claim(path, where, what)
            base[key] = new
            here.replace()


def _by_name(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) and "name" in v for v in value)


def _merge_entries(
    base: list[Any],
    over: list[Any],
    cursor: _Cursor,
    rules: KindRules,
    claims: _Touched,
    what: str,
    logical: tuple[str, ...],
) -> None:
    index = {entry["name"]: i for i, entry in enumerate(base)}
    for j, entry in enumerate(over):
        name = str(entry["name"])
        if name in index:
            i = index[name]
            fields = {k: v for k, v in entry.items() if k != "name"}  # the key it merges by
            _merge(base[i], fields, cursor.down(i, j), rules, claims, what, (*logical, name))
            continue
        here = cursor.down(len(base), j)
        where = cursor.over.find(here.over_path)
        claims.claim((*logical, name), where, what)
        index[name] = len(base)
        base.append(entry)
        here.replace()


def _close(word: str, choices: list[str]) -> str | None:
    found = difflib.get_close_matches(word, choices, n=1)
    return f"did you mean {found[0]!r}?" if found else None
