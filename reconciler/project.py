"""The project file ``reconciler.yaml``: targets, variables, include globs.

These models are the shape every other part of the tool reads; loading the file (positions in
errors) is ``reconciler.manifest.load_project``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reconciler.model.errors import Location, ManifestError
from reconciler.model.resources import KindName

PROJECT_FILE = "reconciler.yaml"
SANDBOX_STATE = Path(".reconciler") / "sandbox"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetType(StrEnum):
    SANDBOX = "sandbox"
    DATABRICKS = "databricks"
    MLFLOW = "mlflow"


class Variable(_Model):
    default: Any = None
    description: str | None = None


class IgnoreRule(_Model):
    """Fields others may change without it counting as drift (like Argo CD ignoreDifferences).

    ``asset`` is a glob over addresses (``serving_endpoint.support-*``); ``fields`` are dotted
    paths as they appear in plan diffs (``tags.owner``, ``traffic``).
    """

    asset: str = "*"
    fields: list[str] = Field(min_length=1)


VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DURATION = re.compile(
    r"^(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s)?$"
)


def parse_duration(value: Any) -> float:
    """Seconds from a number of seconds or a string such as ``90s``, ``45m``, ``1h30m``."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration (seconds, or e.g. 45m, 1h30m), got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip().lower()
        found = _DURATION.match(text) if text else None
        if text.replace(".", "", 1).isdigit():
            seconds = float(text)
        elif found is None or not any(found.groupdict().values()):
            raise ValueError(f"{value!r} is not a duration; write seconds, or e.g. 90s, 45m, 1h30m")
        else:
            parts = {k: float(v) for k, v in found.groupdict().items() if v}
            seconds = parts.get("h", 0) * 3600 + parts.get("m", 0) * 60 + parts.get("s", 0)
    if not 0 < seconds <= 7 * 86400:
        raise ValueError(f"duration {value!r} must be above 0 and at most 7 days")
    return seconds


class Target(_Model):
    type: TargetType
    profile: str | None = Field(default=None, description="databricks: ~/.databrickscfg profile")
    host: str | None = Field(default=None, description="databricks: workspace URL")
    tracking_uri: str | None = Field(default=None, description="mlflow: registry URI")
    state_dir: str | None = Field(
        default=None,
        description="sandbox: state directory, inside the project (default .reconciler/sandbox)",
    )
    rate_limit: float | None = Field(
        default=None,
        gt=0,
        le=1_000_000,
        description="sandbox: API requests admitted per second; the rest get 429 with"
        " Retry-After, like a workspace's API limits",
    )
    latency_ms: float | None = Field(
        default=None, ge=0, le=60_000, description="sandbox: milliseconds added to every API call"
    )
    connect_timeout: float | None = Field(
        default=None,
        gt=0,
        le=600,
        description="databricks: seconds to wait for a connection to the workspace (default 10);"
        " mlflow: for the connection of the first probe of a tracking server (default 5)",
    )
    read_timeout: float | None = Field(
        default=None,
        gt=0,
        le=3600,
        description="databricks: seconds to wait for an answer to one request (default 60);"
        " mlflow: for the answer to the first probe of a tracking server (at most 10)",
    )
    timeouts: dict[KindName, float] = Field(
        default_factory=dict,
        description="How long one change of a kind may take, waits included (seconds, or"
        " e.g. 45m, 1h30m), e.g. {serving_endpoint: 1h}; defaults per kind: serving_endpoint"
        " 45m, vector_search_endpoint 75m, vector_index 75m, others 20m.",
    )
    max_concurrency: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="databricks, sandbox: the most read calls in flight at once (default 64);"
        " reads start at 8 and adapt to the workspace's answers below this ceiling",
    )
    variables: dict[str, Any] = Field(default_factory=dict)
    prune: bool = Field(default=False, description="Plan deletes for owned assets left out.")
    ignore: list[IgnoreRule] = Field(default_factory=list)
    protected: list[str] = Field(
        default_factory=list, description="Address globs never deleted or replaced."
    )
    include: list[str] | None = Field(
        default=None,
        description="Manifest globs for this target instead of the project's include"
        " (e.g. only the registry manifests for an mlflow target).",
    )
    overrides: dict[str, dict[str, dict[str, Any]]] = Field(
        default_factory=dict,
        description="Fields that differ on this target, merged into the manifest entries:"
        " {manifest key: {asset name: {field: value}}} (see docs/manifests.md, Per-target"
        " overrides).",
    )

    @field_validator("timeouts", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {kind: parse_duration(v) for kind, v in value.items()}


class Project(_Model):
    project: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    include: list[str] = Field(default_factory=lambda: ["manifests/**/*.yaml"])
    default_target: str | None = None
    variables: dict[str, Variable] = Field(default_factory=dict)
    targets: dict[str, Target] = Field(min_length=1)

    # Set by the loader; not part of the file.
    root: Path = Field(default=Path("."), exclude=True)
    cwd: Path | None = Field(default=None, exclude=True)
    """The working directory paths in messages are shown relative to (None: the process's)."""
    file: str = Field(default=PROJECT_FILE, exclude=True)
    """The project file as shown in messages (relative to the working directory if possible)."""
    positions: Any = Field(default=None, exclude=True)
    """Where each value of the project file was written (``manifest.document.Positions``)."""
    file_sha256: str = Field(default="", exclude=True)
    """SHA-256 of the project file's bytes as loaded (part of a plan's manifest digest)."""

    @field_validator("variables")
    @classmethod
    def _variable_names(cls, value: dict[str, Variable]) -> dict[str, Variable]:
        for name in value:
            if not VARIABLE_NAME.match(name):
                raise ValueError(
                    f"variable name {name!r}: use letters, digits and '_',"
                    " not starting with a digit"
                )
        return value

    def location(self, *path: str | int) -> Location:
        """Where ``path`` (e.g. ``"targets", "dev", "variables"``) is in the project file."""
        if self.positions is None:
            return Location(self.file, 1, 1)
        found: Location = self.positions.find(tuple(path))
        return found

    def include_for(self, target_name: str) -> list[str]:
        target = self.targets[target_name]
        return list(target.include) if target.include is not None else list(self.include)

    def variables_for(self, target_name: str) -> dict[str, Any]:
        """Variable values for one target: project defaults, then the target's overrides.

        A variable without a default and not set by the target has no entry: referencing it
        is an error at the reference.
        """
        values = {name: v.default for name, v in self.variables.items() if v.default is not None}
        values.update(self.targets[target_name].variables)
        return values


def find_project_file(project_dir: Path | None = None, *, cwd: Path | None = None) -> Path:
    """The project file: in ``project_dir`` if given, else in ``cwd`` or its nearest parent."""
    if project_dir is not None:
        candidate = Path(project_dir) / PROJECT_FILE
        if not (candidate.exists() or candidate.is_symlink()):
            raise ManifestError(
                f"no {PROJECT_FILE} in {project_dir}",
                hint="pass the directory that holds reconciler.yaml to --project",
            )
        return candidate
    start = (cwd or Path.cwd()).resolve()
    for directory in (start, *start.parents):
        candidate = directory / PROJECT_FILE
        if candidate.exists() or candidate.is_symlink():
            return candidate
    raise ManifestError(
        f"no {PROJECT_FILE} in {start} or any parent directory",
        hint="run inside a project, or pass --project DIR",
    )


def display_path(path: Path, cwd: Path | None = None) -> str:
    """A path as short as it can be shown: relative to the working directory when inside it."""
    base = (cwd or Path.cwd()).resolve()
    try:
        return str(path.resolve().relative_to(base))
    except ValueError:
        return str(path)


def select_target(project: Project, name: str | None) -> tuple[str, Target]:
    """The target named on the command line, else the project's default_target.

    With neither, a project with exactly one target uses it.
    """
    chosen = name or project.default_target
    if chosen is None:
        if len(project.targets) == 1:
            chosen = next(iter(project.targets))
        else:
            raise ManifestError(
                "no target given and the project has no default_target",
                location=project.location(),
                hint=f"pass -t one of: {', '.join(project.targets)}",
            )
    if chosen not in project.targets:
        raise ManifestError(
            f"unknown target {chosen!r}; known targets: {', '.join(project.targets)}",
            hint=f"targets are declared in {project.file}",
        )
    return chosen, project.targets[chosen]
