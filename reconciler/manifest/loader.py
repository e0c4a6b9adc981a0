"""From the project file and its manifests to the desired state of one target.

Every include-glob match is parsed (with positions), interpolated with the target's
variables and validated on its own, so each error names its file; then the files are merged
and checked together (``checks.build_desired_state``).
"""

from __future__ import annotations

import dataclasses
import time

from reconciler.kinds.manifest_file import ManifestFile
from reconciler.manifest import overrides
from reconciler.manifest.checks import LoadedFile, build_desired_state
from reconciler.manifest.document import load_yaml
from reconciler.manifest.inputs import InputRefused
from reconciler.manifest.interpolate import Interpolator
from reconciler.manifest.source import FileSystemSource, SourceTree, describe, match_glob
from reconciler.manifest.validate import validate_model
from reconciler.model.digest import sha256_hex
from reconciler.model.errors import Location, ManifestError
from reconciler.model.resources import DesiredState
from reconciler.project import Project, select_target
from reconciler.runtime.logs import debug_enabled, get_logger

TOP_LEVEL_KEYS = tuple(k for k in ManifestFile.model_fields if k != overrides.SECTION)


def _include_key(project: Project, target_name: str) -> tuple[str, ...]:
    """Where the target's include globs are written in the project file."""
    target = project.targets[target_name]
    return ("targets", target_name, "include") if target.include is not None else ("include",)


def refused(project: Project, target_name: str, error: InputRefused) -> ManifestError:
    """An unreadable glob or file, located at the include entry that brought it in."""
    globs = project.include_for(target_name)
    key: tuple[str | int, ...] = _include_key(project, target_name)
    for i, glob in enumerate(globs):
        if glob == error.pattern or (error.path is not None and match_glob(error.path, glob)):
            key = (*key, i)
            break
    return ManifestError(error.message, location=project.location(*key), hint=error.hint)


def manifest_paths(project: Project, target_name: str, source: SourceTree) -> list[str]:
    globs = project.include_for(target_name)
    try:
        paths = source.files(globs)
    except InputRefused as error:
        raise refused(project, target_name, error) from None
    if not paths:
        raise ManifestError(
            f"the include globs {globs} match no files",
            location=project.location(*_include_key(project, target_name)),
            hint="manifests are found relative to the directory holding reconciler.yaml",
        )
    return paths


def load_manifest(data: bytes, shown: str, interpolator: Interpolator | None) -> LoadedFile:
    """Parse, interpolate and validate one manifest file (overrides aside)."""
    parsed = parse_manifest(data, shown, interpolator)
    parsed.value.pop(overrides.SECTION, None)
    return validate_manifest(parsed)


def parse_manifest(
    data: bytes, shown: str, interpolator: Interpolator | None, target: str | None = None
) -> overrides.Parsed:
    """Parse and interpolate one manifest file; the overrides of targets other than
    ``target`` stay as written."""
    skip = overrides.skip_other_targets(target) if target is not None else None
    value, positions = load_yaml(data, shown, interpolate=interpolator, skip=skip)
    if value is None:
        raise ManifestError(
            "manifest is empty",
            location=Location(shown, 1, 1),
            hint=f"declare at least one of {', '.join(TOP_LEVEL_KEYS)}, or delete the file",
        )
    if not isinstance(value, dict):
        raise ManifestError(
            f"a manifest is a mapping of top-level lists ({', '.join(TOP_LEVEL_KEYS)}),"
            f" not a {_type_name(value)}",
            location=positions.find(()),
        )
    return overrides.Parsed(shown, value, positions)


def validate_manifest(parsed: overrides.Parsed) -> LoadedFile:
    manifest = validate_model(ManifestFile, parsed.value, parsed.positions)
    return LoadedFile(parsed.path, manifest, parsed.positions)


def _type_name(value: object) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def load_files(
    project: Project, target_name: str, *, source: SourceTree | None = None
) -> list[LoadedFile]:
    """Every manifest file of a target with the target's overrides merged in, validated one
    by one."""
    tree: SourceTree = (
        source if source is not None else FileSystemSource(project.root, cwd=project.cwd)
    )
    interpolator = Interpolator(
        project.variables_for(target_name), target=target_name, declared=set(project.variables)
    )
    parsed: list[overrides.Parsed] = []
    sources: list[tuple[str, str]] = []
    for path in manifest_paths(project, target_name, tree):
        shown = describe(tree, path)
        try:
            data = tree.read(path)
        except InputRefused as error:
            raise refused(project, target_name, error) from None
        except OSError as exc:
            unreadable = InputRefused(f"cannot read {shown}: {exc.strerror or exc}", path=path)
            raise refused(project, target_name, unreadable) from None
        parsed.append(parse_manifest(data, shown, interpolator, target_name))
        sources.append((path, sha256_hex(data)))
    found = overrides.from_project(project, target_name, interpolator)
    for file in parsed:
        found += overrides.from_manifest(file, project, target_name)
    overrides.apply(parsed, found)
    return [
        dataclasses.replace(validate_manifest(file), source=path, sha256=digest)
        for file, (path, digest) in zip(parsed, sources, strict=True)
    ]


def load_desired_state(
    project: Project, target_name: str | None, *, source: SourceTree | None = None
) -> DesiredState:
    """The desired state of one target: interpolated, validated, checked across files.

    ``target_name`` None means the project's default target. Errors are ManifestError with
    the file:line:col of the offending value.
    """
    started = time.perf_counter()
    name, _ = select_target(project, target_name)
    files = load_files(project, name, source=source)
    desired = build_desired_state(project, name, files)
    if debug_enabled():
        get_logger(__name__).debug(
            "manifests loaded",
            target=name,
            files=len(files),
            assets=len(desired.resources),
            seconds=round(time.perf_counter() - started, 3),
        )
    return desired
