"""Model versions on Databricks: the reads a plan needs (exists? READY? which provisioned
throughput steps?), the wait a write does before pointing at a version, and the records a
promotion leaves on the version (tags). Versions are created by training pipelines, never here.

The optimization info has no SDK method; the route is the one Databricks documents for
provisioned throughput: ``GET /api/2.0/serving-endpoints/get-model-optimization-info/{model}/
{version}`` answering ``{"optimizable": bool, "throughput_chunk_size": int}``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from databricks.sdk.errors import BadRequest, NotFound, NotImplemented

from reconciler.adapters.databricks.reading import KindReader, Task, get_or_none, translated
from reconciler.adapters.databricks.sdk import WorkspaceClient
from reconciler.kinds.diffing import as_int, raw_tags
from reconciler.model.live import OptimizationInfo, VersionInfo
from reconciler.runtime import retry
from reconciler.runtime.settings import ApplySettings
from reconciler.runtime.waits import poll_until

OPTIMIZATION_INFO = "/api/2.0/serving-endpoints/get-model-optimization-info"
MLFLOW_UC = "/api/2.0/mlflow/unity-catalog"
UC_MODELS = "/api/2.1/unity-catalog/models"
VERSION_TAGS = f"{MLFLOW_UC}/model-versions/get"
"""Version tags (approval and promotion records) go through MLflow's Unity Catalog route: the
2.1 API has none."""
APPROVAL_TAG_PREFIX = "reconciler.approval."
"""Model version tag ``reconciler.approval.<alias>``: the approval reference of the promotion
that pointed ``alias`` at the version (the MLflow adapter keeps the same key)."""
PROMOTION_TAG_PREFIX = "reconciler.promoted."
"""Model version tag ``reconciler.promoted.<alias>``: when, by whom, from which project and
commit (the same records the MLflow adapter keeps)."""


def approval_tag(alias: str) -> str:
    return APPROVAL_TAG_PREFIX + alias


class VersionReader(KindReader):
    """One GET for a lone version; one (paged) list call for a model that needs several. Both
    through ``api_client.do``: a plan that reads versions then needs no catalog dataclasses."""

    def round(self, number: int) -> list[Task]:
        if number != 0:
            return []
        by_model: dict[str, set[int]] = {}
        for model, version in self.run.request.versions:
            by_model.setdefault(model, set()).add(int(version))
        tasks = []
        for model in sorted(by_model):
            versions = by_model[model]
            if len(versions) == 1:
                tasks.append(self._task_version(model, next(iter(versions))))
            else:
                tasks.append(self._task_versions(model, versions))
        for model, version in sorted(set(self.run.request.optimizations)):
            tasks.append(self._task_optimization(model, int(version)))
        return tasks

    def _task_optimization(self, model: str, version: int) -> Task:
        def task() -> None:
            path = f"{OPTIMIZATION_INFO}/{model}/{version}"
            answer = get_or_none(
                f"the optimization info of {model} version {version}",
                lambda: self.client.api_client.do("GET", path),
            )
            if not isinstance(answer, dict):
                return
            chunk = answer.get("throughput_chunk_size")
            info = OptimizationInfo(
                model=model,
                version=version,
                optimizable=bool(answer.get("optimizable")),
                chunk_size=int(chunk) if chunk else None,
            )
            with self.run.lock:
                self.run.live.optimizations[(model, version)] = info

        return task

    def _task_versions(self, model: str, versions: set[int]) -> Task:
        def task() -> None:
            with translated(f"versions of model {model}"):
                try:
                    listed = self._list(model)
                except NotFound:
                    listed = []
            found = {}
            for item in listed:
                number = as_int(item.get("version"))
                if isinstance(number, int) and number in versions:
                    found[(model, number)] = VersionInfo(model, number, _status(item))
            with self.run.lock:
                self.run.live.versions.update(found)

        return task

    def _list(self, model: str) -> list[dict[str, Any]]:
        """Every version of ``model``: pages until one comes without a token (a page may be
        empty and still have one)."""
        out: list[dict[str, Any]] = []
        query: dict[str, Any] = {"max_results": 1000}
        while True:
            page = self.client.api_client.do("GET", f"{UC_MODELS}/{model}/versions", query=query)
            if not isinstance(page, dict):
                return out
            out.extend(v for v in page.get("model_versions") or [] if isinstance(v, dict))
            token = page.get("next_page_token")
            if not token:
                return out
            query = {"max_results": 1000, "page_token": token}

    def _task_version(self, model: str, version: int) -> Task:
        def task() -> None:
            found = get_or_none(
                f"version {version} of model {model}",
                lambda: self.client.api_client.do(
                    "GET", f"{UC_MODELS}/{model}/versions/{int(version)}"
                ),
            )
            if not isinstance(found, dict):
                return
            info = VersionInfo(model=model, version=int(version), status=_status(found))
            with self.run.lock:
                self.run.live.versions[(model, int(version))] = info

        return task


def _status(version: Mapping[str, Any]) -> str:
    return str(version.get("status") or "UNKNOWN")


def wait_version_ready(client: WorkspaceClient, model: str, version: int, *, address: str) -> None:
    """A version still PENDING_REGISTRATION is waited for; FAILED_REGISTRATION fails."""

    def read() -> str:
        info = client.model_versions.get(model, version)
        return info.status.value if info.status is not None else "MODEL_VERSION_STATUS_UNKNOWN"

    def failed(status: str) -> str | None:
        if status == "FAILED_REGISTRATION":
            return f"model version {model} {version} failed registration"
        return None

    poll_until(
        read,
        lambda status: status == "READY",
        what=f"waiting for {model} version {version} to be READY",
        address=address,
        failed=failed,
        describe=str,
    )


# --- version tags: approval and promotion records ----------------------------------------


def version_tags(client: WorkspaceClient, model: str, version: int) -> dict[str, str]:
    """The tags of one version ({} when the version or the route is missing)."""
    query = {"name": model, "version": str(version)}
    with translated(f"tags of version {version} of model {model}"):
        try:
            answer = client.api_client.do("GET", VERSION_TAGS, query=query)
        except (NotFound, BadRequest, NotImplemented):
            answer = {}
    found = answer.get("model_version") if isinstance(answer, dict) else None
    return raw_tags(found.get("tags") if isinstance(found, dict) else None)


def set_version_tag(
    client: WorkspaceClient, model: str, version: int, key: str, value: str
) -> None:
    """Version tags go through the MLflow Unity Catalog route (the 2.1 API has none)."""
    body = {"name": model, "version": str(version), "key": key, "value": value}
    retry.call(
        lambda: client.api_client.do("POST", f"{MLFLOW_UC}/model-versions/set-tag", body=body),
        what=f"tagging {model} version {version}",
        idempotent=True,  # setting a tag twice sets it once
    )


def promotion_record(approval: str | None, settings: ApplySettings) -> str:
    """``<when> by <who> (project <p>) approval <ref> commit <sha>``: readable in any UI."""
    record = f"{datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')} by {actor()}"
    if settings.project:
        record += f" (project {settings.project})"
    if approval:
        record += f" approval {approval}"
    if settings.commit:
        record += f" commit {settings.commit}"
    return record


def actor() -> str:
    """Who runs the apply: the CI actor when there is one, else the local user."""
    for var in ("GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILD_REQUESTEDFOR", "USER"):
        if value := os.environ.get(var):
            return value
    return "unknown"
