"""Model versions on Databricks: the reads a plan needs (exists? READY?) and the wait a write
does before pointing at a version. Versions are created by training pipelines, never here."""

from __future__ import annotations

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound

from reconciler.adapters.databricks.reading import KindReader, Task, get_or_none, translated
from reconciler.model.live import VersionInfo
from reconciler.runtime.waits import poll_until


class VersionReader(KindReader):
    """One GET for a lone version; one list call for a model that needs several."""

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
        return tasks

    def _task_versions(self, model: str, versions: set[int]) -> Task:
        def task() -> None:
            with translated(f"versions of model {model}"):
                try:
                    listed = list(self.client.model_versions.list(model, max_results=1000))
                except NotFound:
                    listed = []
            found = {}
            for item in listed:
                if item.version is not None and int(item.version) in versions:
                    status = item.status.value if item.status is not None else "UNKNOWN"
                    found[(model, int(item.version))] = VersionInfo(
                        model, int(item.version), status
                    )
            with self.run.lock:
                self.run.live.versions.update(found)

        return task

    def _task_version(self, model: str, version: int) -> Task:
        def task() -> None:
            found = get_or_none(
                f"version {version} of model {model}",
                lambda: self.client.model_versions.get(model, int(version)),
            )
            if found is None:
                return
            status = found.status.value if found.status is not None else "UNKNOWN"
            info = VersionInfo(model=model, version=int(version), status=status)
            with self.run.lock:
                self.run.live.versions[(model, int(version))] = info

        return task


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
