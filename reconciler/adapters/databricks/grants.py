"""Unity Catalog grants on the wire, both ways, and the record of what a project granted.

Reads: ``GET /api/2.1/unity-catalog/permissions/{securable_type}/{full_name}`` (paged with
``max_results=0``) gives ``privilege_assignments: [{principal, privileges}]``, direct grants
only. Writes: ``PATCH`` the same path with ``changes: [{principal, add, remove}]``, the deltas
the plan's ``grants.<principal>`` diffs say. Models are securable type FUNCTION, vector indexes
TABLE.

The record says what a project granted: a tag ``<prefix><project>`` =
``{"<principal>": ["<privilege>", ...]}`` (JSON) on the nearest holder of tags: a model's own tags
(prefix ``reconciler.grants.``), an index's Vector Search endpoint (prefix
``reconciler.grants.<index>.``). It is written before the grants it lists and trimmed after
revokes, so a crash in between leaves a record of a grant that was not made (harmless: a revoke
of what is not held is empty), never a grant nobody recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.adapters.databricks.markers import holder_lock
from reconciler.adapters.databricks.reading import ReadRun, Task, get_or_none
from reconciler.adapters.databricks.sdk import WorkspaceClient
from reconciler.adapters.databricks.vector_search_endpoint import (
    put_vs_endpoint_tags,
    vs_endpoint_tags,
)
from reconciler.kinds.grants import (
    GRANTED_BY,
    GRANTS,
    by_principal,
    canonical_grants,
    creation_changes,
    grant_changes,
    principal_field,
    record_after,
)
from reconciler.model.changes import Action, Change
from reconciler.runtime import retry

API = "/api/2.1/unity-catalog/permissions"
FUNCTION = "FUNCTION"
"""Securable type of registered models in the grants API."""
TABLE = "TABLE"
"""Securable type of vector indexes in the grants API."""
RECORD_PREFIX = "reconciler.grants."
Doc = dict[str, Any]


def read_assignments(client: WorkspaceClient, securable_type: str, full_name: str) -> list[Doc]:
    """Every direct grant on a securable (all pages); NotFound when it does not exist."""
    out: list[Doc] = []
    token: str | None = None
    while True:
        query: Doc = {"max_results": 0}
        if token:
            query["page_token"] = token
        answer = client.api_client.do("GET", f"{API}/{securable_type}/{full_name}", query=query)
        assert isinstance(answer, dict)
        out.extend(a for a in answer.get("privilege_assignments") or [] if a.get("principal"))
        token = answer.get("next_page_token")
        if not token:
            return out


def grants_task(
    run: ReadRun, securable_type: str, full_name: str, into: dict[str, list[Doc]]
) -> Task:
    """A read of the grants on one securable (none when it does not exist)."""

    def task() -> None:
        found = get_or_none(
            f"grants on {full_name}",
            lambda: read_assignments(run.client, securable_type, full_name),
        )
        if found is not None:
            with run.lock:
                into[full_name] = found

    return task


def normalize_grants(assignments: Any) -> list[Doc]:
    """``privilege_assignments`` as manifest entries (the kind of principal guessed from its
    name: the API does not say)."""
    entries = [
        {principal_field(str(a["principal"])): a["principal"], "privileges": a.get("privileges")}
        for a in assignments or []
        if a.get("principal") and a.get("privileges")
    ]
    return canonical_grants(entries)


def with_grants(doc: Doc, raw: Mapping[str, Any]) -> Doc:
    """``doc`` with the live grants and every project's record, when the read asked for the
    grants (the reader puts ``grants`` and ``granted_by`` in ``raw``)."""
    if GRANTS in raw:
        doc[GRANTS] = normalize_grants(raw[GRANTS])
        doc[GRANTED_BY] = dict(raw.get(GRANTED_BY) or {})
    return doc


def index_prefix(index: str) -> str:
    """Records of an index's grants sit on its endpoint, keyed by the index."""
    return f"{RECORD_PREFIX}{index}."


def records(
    tags: Mapping[str, str], prefix: str = RECORD_PREFIX
) -> dict[str, dict[str, list[str]]]:
    """project -> principal -> privileges, from the record tags (unreadable ones are skipped:
    nothing is revoked on their account)."""
    out: dict[str, dict[str, list[str]]] = {}
    for key, value in tags.items():
        if not key.startswith(prefix):
            continue
        try:
            parsed = json.loads(value)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            out[key[len(prefix) :]] = {
                str(p): sorted(str(v) for v in privs)
                for p, privs in parsed.items()
                if isinstance(privs, list)
            }
    return out


def format_record(record: Mapping[str, Sequence[str]]) -> str | None:
    """The tag value for a record (None: nothing granted, delete the tag)."""
    if not record:
        return None
    return json.dumps({p: sorted(v) for p, v in sorted(record.items())}, separators=(",", ":"))


def update_grants(
    client: WorkspaceClient, securable_type: str, full_name: str, changes: list[Doc]
) -> None:
    if not changes:
        return
    body = {"changes": changes}
    retry.call(
        lambda: client.api_client.do("PATCH", f"{API}/{securable_type}/{full_name}", body=body),
        what=f"updating the grants on {full_name}",
    )


def held(client: WorkspaceClient, securable_type: str, full_name: str) -> dict[str, list[str]]:
    """Principal -> privileges held now (re-read before a record is trimmed)."""
    assignments = retry.call(
        lambda: read_assignments(client, securable_type, full_name),
        what=f"reading the grants on {full_name}",
    )
    return {str(a["principal"]): list(a.get("privileges") or []) for a in assignments}


@dataclass(frozen=True)
class RecordHolder:
    """Where a securable's grant records live: read and write one tag, under one lock."""

    lock: str
    prefix: str
    tags: Callable[[], Mapping[str, str]]
    write: Callable[[str, str | None], None]
    """``(key, value)``; None deletes the tag."""


def _store(holder: RecordHolder, project: str, record: Mapping[str, Sequence[str]]) -> None:
    key, value = holder.prefix + project, format_record(record)
    if holder.tags().get(key) != value:
        holder.write(key, value)


def apply_grants(
    client: WorkspaceClient,
    change: Change,
    doc: Mapping[str, Any],
    securable: tuple[str, str],
    project: str,
    holder: RecordHolder,
) -> None:
    """Grant and revoke what the change says (a new securable gets every desired grant), with
    the project's record written around it."""
    if GRANTS not in doc:
        return
    securable_type, full_name = securable
    fresh = change.action in (Action.CREATE, Action.REPLACE)
    diffs = [d for d in change.diffs if d.path.startswith(GRANTS + ".")]
    changes = creation_changes(doc[GRANTS]) if fresh else grant_changes(diffs)
    if not changes:
        return
    with holder_lock(holder.lock):
        recorded = records(holder.tags(), holder.prefix).get(project, {})
        if project:
            _store(holder, project, {**recorded, **by_principal(doc[GRANTS])})
        update_grants(client, securable_type, full_name, changes)
        if project:
            now = held(client, securable_type, full_name)
            _store(holder, project, record_after(recorded, doc[GRANTS], diffs, now))


def drop_records(holder: RecordHolder, project: str) -> None:
    """Forget what the project granted on a securable that is gone."""
    with holder_lock(holder.lock):
        if holder.prefix + project in holder.tags():
            holder.write(holder.prefix + project, None)


def grant_records(client: WorkspaceClient, endpoint: str, index: str) -> RecordHolder:
    """An index's grant records are tags of its endpoint (the tags call replaces the set)."""

    def write(key: str, value: str | None) -> None:
        tags = {k: v for k, v in vs_endpoint_tags(client, endpoint).items() if k != key}
        put_vs_endpoint_tags(client, endpoint, tags if value is None else {**tags, key: value})

    return RecordHolder(
        lock=f"vs:{endpoint}",
        prefix=index_prefix(index),
        tags=lambda: vs_endpoint_tags(client, endpoint),
        write=write,
    )
