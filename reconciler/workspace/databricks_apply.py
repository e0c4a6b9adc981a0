"""The write calls of the Databricks adapter: one planned change at a time, until it settles.

Every call goes through the retry policy (``reconciler.runtime.retry``); every wait polls without
holding a work slot (``reconciler.runtime.waits``). Writes that merge with live state (AI Gateway,
tags) re-read the asset just before writing, because an earlier change of the same plan may
have changed it since the plan was made; writes to one endpoint never run concurrently.

Registered models and aliases live here; serving endpoints and quotas in
``databricks_apply_serving``; Vector Search in ``databricks_apply_vs``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, ResourceConflict

from reconciler.model.changes import Action, Change
from reconciler.model.errors import ApplyError
from reconciler.model.live import OWNER_TAG, LiveAsset
from reconciler.model.resources import KindName
from reconciler.runtime import retry
from reconciler.runtime.context import current_settings
from reconciler.runtime.settings import ApplySettings
from reconciler.runtime.waits import poll_until
from reconciler.workspace import databricks_markers as markers
from reconciler.workspace import ownership

log = logging.getLogger(__name__)

Handler = Callable[[WorkspaceClient, Change, "LiveAsset | None", ApplySettings], None]
APPROVAL_TAG_PREFIX = ownership.APPROVAL_TAG_PREFIX
"""Model version tag ``reconciler.approval.<alias>``: the approval reference of an alias move."""
PROMOTION_TAG_PREFIX = "reconciler.promoted."
"""Model version tag ``reconciler.promoted.<alias>``: when, by whom, from which project and
commit (the same records the MLflow adapter keeps)."""
_MLFLOW_UC = "/api/2.0/mlflow/unity-catalog"


def apply_change(
    client: WorkspaceClient,
    change: Change,
    live: LiveAsset | None,
    settings: ApplySettings | None = None,
) -> None:
    """Execute ``change`` and return once the asset has settled; raise on failure."""
    from reconciler.workspace import databricks_apply_serving as serving
    from reconciler.workspace import databricks_apply_vs as vs

    handlers: dict[KindName, Handler] = {
        KindName.REGISTERED_MODEL: apply_registered_model,
        KindName.MODEL_ALIAS: apply_model_alias,
        KindName.SERVING_ENDPOINT: serving.apply_serving_endpoint,
        KindName.QUOTA: serving.apply_quota,
        KindName.VECTOR_SEARCH_ENDPOINT: vs.apply_vector_search_endpoint,
        KindName.VECTOR_INDEX: vs.apply_vector_index,
    }
    handler = handlers.get(change.kind)
    if handler is None:
        raise ApplyError(f"no write calls for kind {change.kind!r}", address=change.address)
    handler(client, change, live, settings or current_settings())


def desired_of(change: Change) -> dict[str, Any]:
    if change.desired is None:
        raise ApplyError(
            f"the plan gives no desired document for this {change.action.value}",
            address=change.address,
        )
    return dict(change.desired)


def touches(change: Change, *prefixes: str) -> bool:
    """Whether the change's diffs touch a field under one of ``prefixes`` (all, when unknown)."""
    if change.action is not Action.UPDATE or not change.diffs:
        return True
    return any(d.path == p or d.path.startswith(p + ".") for d in change.diffs for p in prefixes)


def ignore_missing(fn: Callable[[], object], *, what: str) -> None:
    """Deletes are idempotent: an asset already gone is what was asked for."""
    try:
        retry.call(fn, what=what)
    except NotFound:
        log.info("%s: already gone", what)


def tag_changes(
    desired: Mapping[str, str] | None,
    live: Mapping[str, str],
    provenance: Mapping[str, str],
) -> tuple[dict[str, str], list[str]]:
    """Tags to add or overwrite, and keys to delete, to go from ``live`` to ``desired``.

    ``desired`` None means the manifest does not manage tags: others' tags stay. Our own
    (``reconciler.*``) tags are never deleted here, only refreshed.
    """
    add = {k: v for k, v in provenance.items() if live.get(k) != v}
    remove: list[str] = []
    if desired is not None:
        add.update({k: v for k, v in desired.items() if live.get(k) != v})
        remove = sorted(k for k in live if k not in desired and not k.startswith("reconciler."))
    return add, remove


# --- versions ---------------------------------------------------------------------------


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


# --- registered models ------------------------------------------------------------------


def _create_model(client: WorkspaceClient, doc: Mapping[str, Any]) -> bool:
    """Create the model; False when it already exists (a retried or interrupted create)."""
    catalog, schema, name = str(doc["name"]).split(".", 2)
    try:
        retry.call(
            lambda: client.registered_models.create(
                catalog_name=catalog, schema_name=schema, name=name, comment=doc.get("comment")
            ),
            what=f"creating registered model {doc['name']}",
        )
    except ResourceConflict:
        return False
    return True


def apply_registered_model(
    client: WorkspaceClient, change: Change, live: LiveAsset | None, settings: ApplySettings
) -> None:
    full_name = change.name
    if change.action is Action.DELETE:
        ignore_missing(
            lambda: client.registered_models.delete(full_name),
            what=f"deleting registered model {full_name}",
        )
        return
    doc = desired_of(change)
    created = change.action is Action.CREATE and _create_model(client, doc)
    updates = {k: doc[k] for k in ("comment", "owner") if k in doc}
    if created:
        updates.pop("comment", None)
    if updates:
        retry.call(
            lambda: client.registered_models.update(full_name, **updates),
            what=f"updating registered model {full_name}",
        )
    live_tags = markers.model_tags(client, full_name)
    provenance = {OWNER_TAG: settings.project} if settings.project else {}
    add, remove = tag_changes(doc.get("tags"), live_tags, provenance)
    markers.patch_model_tags(client, full_name, add, remove)


# --- aliases ----------------------------------------------------------------------------


def apply_model_alias(
    client: WorkspaceClient, change: Change, live: LiveAsset | None, settings: ApplySettings
) -> None:
    model, _, alias = change.name.rpartition("@")
    if change.action is Action.DELETE:
        ignore_missing(
            lambda: client.registered_models.delete_alias(model, alias),
            what=f"deleting alias {change.name}",
        )
        # Unmarked only once gone: a crash in between leaves it marked, so prune retries.
        markers.mark_alias(client, model, alias, settings.project, present=False)
        return
    doc = desired_of(change)
    version = int(doc["version"])
    wait_version_ready(client, model, version, address=change.address)
    # Marked before it is set: a crash in between leaves a marker naming no alias (ignored).
    markers.mark_alias(client, model, alias, settings.project, present=True)
    retry.call(
        lambda: client.registered_models.set_alias(model, alias, version),
        what=f"setting alias {change.name} to version {version}",
    )
    approval = str(doc["approval"]) if doc.get("approval") else None
    records = {PROMOTION_TAG_PREFIX + alias: promotion_record(approval, settings)}
    if approval:
        records[APPROVAL_TAG_PREFIX + alias] = approval
    for key, value in records.items():
        _set_version_tag(client, model, version, key, value)


def _set_version_tag(
    client: WorkspaceClient, model: str, version: int, key: str, value: str
) -> None:
    """Version tags go through the MLflow Unity Catalog route (the 2.1 API has none)."""
    body = {"name": model, "version": str(version), "key": key, "value": value}
    retry.call(
        lambda: client.api_client.do("POST", f"{_MLFLOW_UC}/model-versions/set-tag", body=body),
        what=f"tagging {model} version {version}",
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
