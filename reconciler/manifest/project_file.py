"""Loading ``reconciler.yaml``: found from the working directory (or ``--project``), parsed with
positions, validated, then checked as a whole (the default target exists, targets set only
declared variables, address globs can match something)."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from reconciler.manifest.document import load_yaml
from reconciler.manifest.validate import validate_model
from reconciler.model.errors import Location, ManifestError
from reconciler.model.resources import KindName
from reconciler.project import Project, TargetType, display_path, find_project_file


def load_project(project_dir: Path | None = None, *, cwd: Path | None = None) -> Project:
    """Find, parse and validate ``reconciler.yaml``; errors name file:line:col."""
    path = find_project_file(project_dir, cwd=cwd)
    shown = display_path(path, cwd)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ManifestError(f"cannot read {shown}: {exc.strerror}") from None
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
        }
    )
    _check_project(project)
    return project


def _check_project(project: Project) -> None:
    if project.default_target is not None and project.default_target not in project.targets:
        raise ManifestError(
            f"default_target {project.default_target!r} is not a target"
            f" (targets: {', '.join(project.targets)})",
            location=project.location("default_target"),
        )
    for name, target in project.targets.items():
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
