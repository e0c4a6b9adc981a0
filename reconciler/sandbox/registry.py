"""Registering model versions the way a training pipeline does, through the real routes.

Used by ``reconciler sandbox register-version`` / ``seed`` and by tests that need READY versions.
Works against any workspace that has the MLflow native UC routes; only ``set_version_status``
is sandbox-specific.
"""

from __future__ import annotations

import contextlib
from typing import Literal

from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config
from databricks.sdk.errors import NotFound, ResourceConflict
from databricks.sdk.service.catalog import ModelVersionInfo

Status = Literal["READY", "PENDING_REGISTRATION", "FAILED_REGISTRATION"]
_JSON = {"Accept": "application/json", "Content-Type": "application/json"}


def workspace_client(url: str, *, retry_timeout_seconds: int | None = None) -> WorkspaceClient:
    """A WorkspaceClient on a sandbox URL (any token works; PAT auth, no profile lookup)."""
    config = Config(
        host=url,
        token="sandbox",
        auth_type="pat",
        retry_timeout_seconds=retry_timeout_seconds,
    )
    return WorkspaceClient(config=config)


def _split(full_name: str) -> tuple[str, str, str]:
    parts = full_name.split(".")
    if len(parts) != 3:
        raise ValueError(f"model name {full_name!r} is not <catalog>.<schema>.<model>")
    return parts[0], parts[1], parts[2]


def ensure_model(client: WorkspaceClient, full_name: str) -> None:
    catalog, schema, name = _split(full_name)
    try:
        client.registered_models.get(full_name)
    except NotFound:
        with contextlib.suppress(ResourceConflict):  # created concurrently
            client.registered_models.create(catalog_name=catalog, schema_name=schema, name=name)


def register_version(
    client: WorkspaceClient,
    full_name: str,
    *,
    source: str | None = None,
    comment: str | None = None,
    run_id: str | None = None,
    status: Status = "READY",
) -> ModelVersionInfo:
    """Create the model if needed, then register its next version with the given status."""
    ensure_model(client, full_name)
    catalog, schema, name = _split(full_name)
    body: dict[str, str] = {
        "catalog_name": catalog,
        "schema_name": schema,
        "model_name": name,
        "source": source or f"dbfs:/sandbox/artifacts/{full_name}",
    }
    if comment is not None:
        body["comment"] = comment
    if run_id is not None:
        body["run_id"] = run_id
    created = client.api_client.do(
        "POST", "/api/2.1/unity-catalog/models/versions", body=body, headers=_JSON
    )
    assert isinstance(created, dict)
    version = int(created["version"])
    if status == "READY":
        created = client.api_client.do(
            "PATCH",
            f"/api/2.1/unity-catalog/models/{full_name}/versions/{version}/finalize",
            body={"full_name": full_name, "version": version},
            headers=_JSON,
        )
    elif status == "FAILED_REGISTRATION":
        return set_version_status(client, full_name, version, status)
    assert isinstance(created, dict)
    return ModelVersionInfo.from_dict(created)


def set_version_status(
    client: WorkspaceClient, full_name: str, version: int, status: Status
) -> ModelVersionInfo:
    """Force a version's status (sandbox only): e.g. a FAILED_REGISTRATION left by a bad run."""
    result = client.api_client.do(
        "POST",
        "/sandbox/model-versions/status",
        body={"full_name": full_name, "version": version, "status": status},
        headers=_JSON,
    )
    assert isinstance(result, dict)
    return ModelVersionInfo.from_dict(result)


def register_versions_up_to(client: WorkspaceClient, full_name: str, version: int) -> list[int]:
    """Register READY versions until ``version`` exists; returns the version numbers added."""
    ensure_model(client, full_name)
    existing = [v.version or 0 for v in client.model_versions.list(full_name)]
    highest = max(existing, default=0)
    added = []
    while highest < version:
        highest = register_version(client, full_name).version or highest + 1
        added.append(highest)
    return added
