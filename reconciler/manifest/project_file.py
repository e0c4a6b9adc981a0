"""Loading ``reconciler.yaml``: found from the working directory (or ``--project``), parsed with
positions, validated, then checked as a whole (the default target exists, targets set only
declared variables, address globs can match something, include globs and the sandbox state
directory stay inside the project)."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from reconciler.manifest.document import load_yaml
from reconciler.manifest.inputs import (
    NotRegular,
    TooLarge,
    glob_problem,
    is_inside,
    kind_of,
    read_regular_file,
    writable_dir_problem,
)
from reconciler.manifest.source import too_large
from reconciler.manifest.validate import validate_model
from reconciler.model.digest import sha256_hex
from reconciler.model.errors import Location, ManifestError
from reconciler.model.resources import KindName
from reconciler.project import (
    SANDBOX_STATE,
    Project,
    TargetType,
    display_path,
    find_project_file,
)


def load_project(project_dir: Path | None = None, *, cwd: Path | None = None) -> Project:
    """Find, parse and validate ``reconciler.yaml``; errors name file:line:col."""
    path = find_project_file(project_dir, cwd=cwd)
    shown = display_path(path, cwd)
    data = _read_project_file(path, shown)
    value, positions = load_yaml(data, shown)
    if value is None:
        raise ManifestError(
            "project file is empty",
            location=Location(shown, 1, 1),
            hint="it needs at least `project:` and `targets:` (see docs/manifests.md)",
        )
    if not isinstance(value, dict):
        raise ManifestError(
            f"project file must be a mapping of keys, not a {type(value).__name__}",
            location=positions.find(()),
        )
    project = validate_model(Project, value, positions)
    project = project.model_copy(
        update={
            "root": path.parent.resolve(),
            "cwd": cwd.resolve() if cwd is not None else None,
            "file": shown,
            "positions": positions,
            "file_sha256": sha256_hex(data),
        }
    )
    _check_project(project)
    return project


def _read_project_file(path: Path, shown: str) -> bytes:
    """The project file's bytes: a regular file (a symlink to one is fine: the project root is
    where the file is found), read up to the manifest size limit."""
    try:
        return read_regular_file(path)
    except NotRegular as exc:
        raise ManifestError(f"{shown} is {exc.kind}, not a regular file") from None
    except TooLarge:
        raise too_large(shown) from None
    except OSError as exc:
        raise ManifestError(f"cannot read {shown}: {exc.strerror or exc}") from None


def _check_includes(project: Project) -> None:
    """Include globs stay inside the project: checked here, so every command reports them."""
    entries: list[tuple[tuple[str | int, ...], list[str]]] = [(("include",), project.include)]
    for name, target in project.targets.items():
        if target.include is not None:
            entries.append((("targets", name, "include"), target.include))
    for key, globs in entries:
        for i, glob in enumerate(globs):
            problem = glob_problem(glob)
            if problem is not None:
                raise ManifestError(
                    f"include glob {glob!r} {problem}",
                    location=project.location(*key, i),
                    hint="write globs relative to the directory holding reconciler.yaml,"
                    " e.g. manifests/**/*.yaml",
                )


def sandbox_state_path(project: Project, name: str) -> Path:
    """A sandbox target's state directory (resolved; not created): ``state_dir`` relative to
    the project root, else ``.reconciler/sandbox``. It must stay inside the project."""
    raw = project.targets[name].state_dir
    if not raw:
        return project.root / SANDBOX_STATE
    where = project.location("targets", name, "state_dir")
    if "\0" in raw:
        raise ManifestError("state_dir contains a NUL byte", location=where)
    path = Path(raw)
    real = (path if path.is_absolute() else project.root / path).resolve()
    if not is_inside(real, project.root):
        raise ManifestError(
            f"state_dir {raw!r} resolves to {real}, outside the project directory {project.root}",
            location=where,
            hint="keep the sandbox state inside the project (default .reconciler/sandbox);"
            " 'reconciler sandbox serve --state DIR' takes any directory",
        )
    if real.exists() and not real.is_dir():
        what = "a file" if real.is_file() else kind_of(real.stat().st_mode)
        raise ManifestError(
            f"state_dir {raw!r} is {what}, not a directory",
            location=where,
            hint="point state_dir at a directory (it is created if missing)",
        )
    return real


def prepare_state_dir(project: Project, name: str) -> Path:
    """The sandbox state directory, created and checked writable (errors at ``state_dir``)."""
    path = sandbox_state_path(project, name)
    problem = writable_dir_problem(path)
    if problem is not None:
        key: tuple[str, ...] = ("targets", name)
        if project.targets[name].state_dir:
            key = (*key, "state_dir")
        raise ManifestError(
            f"sandbox state directory {display_path(path, project.cwd)}: {problem}",
            location=project.location(*key),
            hint="point state_dir at a directory this user can write",
        )
    return path


def _check_project(project: Project) -> None:
    if project.default_target is not None and project.default_target not in project.targets:
        raise ManifestError(
            f"default_target {project.default_target!r} is not a target"
            f" (targets: {', '.join(project.targets)})",
            location=project.location("default_target"),
        )
    _check_includes(project)
    for name, target in project.targets.items():
        if target.type is TargetType.SANDBOX:
            sandbox_state_path(project, name)
        for var in target.variables:
            if var not in project.variables:
                raise ManifestError(
                    f"target {name!r} sets variable {var!r}, which is not declared under"
                    " `variables:`",
                    location=project.location("targets", name, "variables", var),
                    hint=f"declare it: variables: {{{var}: {{default: ...}}}}",
                )
        globs: list[tuple[tuple[str | int, ...], str]] = [
            (("protected", i), g) for i, g in enumerate(target.protected)
        ]
        globs += [(("ignore", i, "asset"), rule.asset) for i, rule in enumerate(target.ignore)]
        for path, glob in globs:
            if not _matches_some_kind(glob):
                raise ManifestError(
                    f"{glob!r} matches no asset address; addresses start with a kind"
                    f" ({', '.join(k.value for k in KindName)})",
                    location=project.location("targets", name, *path),
                    hint="e.g. registered_model.prod.* or serving_endpoint.support-*",
                )
        for setting in ("rate_limit", "latency_ms"):
            if getattr(target, setting) is not None and target.type is not TargetType.SANDBOX:
                raise ManifestError(
                    f"{setting} applies to sandbox targets only; target {name!r} is"
                    f" {target.type.value}",
                    location=project.location("targets", name, setting),
                    hint=f"remove {setting}, or use it on a `type: sandbox` target",
                )
        for setting in ("connect_timeout", "read_timeout"):
            if getattr(target, setting) is not None and target.type is TargetType.SANDBOX:
                raise ManifestError(
                    f"{setting} applies to databricks and mlflow targets; target {name!r} is"
                    " the embedded sandbox, which answers on loopback",
                    location=project.location("targets", name, setting),
                    hint=f"remove {setting}, or set it on the target that talks to a server",
                )
        if target.max_concurrency is not None and target.type is TargetType.MLFLOW:
            raise ManifestError(
                f"max_concurrency applies to databricks and sandbox targets; target {name!r}"
                " is mlflow, whose registry is read by MLflow's client",
                location=project.location("targets", name, "max_concurrency"),
                hint="remove max_concurrency, or set it on a databricks or sandbox target",
            )
        if target.type is TargetType.MLFLOW and not target.tracking_uri:
            raise ManifestError(
                f"mlflow target {name!r} needs tracking_uri",
                location=project.location("targets", name),
                hint='e.g. tracking_uri: "sqlite:///.reconciler/mlflow.db"',
            )


def _matches_some_kind(glob: str) -> bool:
    """Whether an address glob can match anything: its kind part must fit some kind."""
    if glob.startswith("*"):
        return True
    kind_part = glob.split(".", 1)[0]
    return any(fnmatch.fnmatchcase(kind.value, kind_part) for kind in KindName)
