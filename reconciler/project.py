"""The project file ``reconciler.yaml``: targets, variables, include globs.

Loading (finding the file, positions in errors) is in ``load_project``; these models are the
shape every other part of the tool reads.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROJECT_FILE = "reconciler.yaml"


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


class Target(_Model):
    type: TargetType
    profile: str | None = Field(default=None, description="databricks: ~/.databrickscfg profile")
    host: str | None = Field(default=None, description="databricks: workspace URL")
    tracking_uri: str | None = Field(default=None, description="mlflow: registry URI")
    state_dir: str | None = Field(default=None, description="sandbox: state directory")
    variables: dict[str, Any] = Field(default_factory=dict)
    prune: bool = Field(default=False, description="Plan deletes for owned assets left out.")
    ignore: list[IgnoreRule] = Field(default_factory=list)
    protected: list[str] = Field(
        default_factory=list, description="Address globs never deleted or replaced."
    )


class Project(_Model):
    project: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    include: list[str] = Field(default_factory=lambda: ["manifests/**/*.yaml"])
    default_target: str | None = None
    variables: dict[str, Variable] = Field(default_factory=dict)
    targets: dict[str, Target] = Field(min_length=1)

    # Set by the loader; not part of the file.
    root: Path = Field(default=Path("."), exclude=True)
