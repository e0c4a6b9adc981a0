"""Intent records: who owns an asset whose marker could not be written in its create call.

A Vector Search endpoint takes no tags in its create call, and its tags can be written only
once it exists (it then waits minutes for ONLINE). So before the create, apply writes an intent
record, the workspace file ``/Shared/.reconciler/intents/<address>@<project>.json``, and deletes
it once the marker tag is on the asset. A kill at any instant leaves a created asset either
marked or covered by its intent. The read side takes the intent's project as the owner of an
unmarked asset created within ``CREATE_WINDOW_MS`` after the intent was written (both times
come from the workspace), and the next plan writes the marker; prune finds the asset either way.

An intent naming nothing (apply died before the create) is harmless: the window keeps it from
claiming an asset someone creates by hand later, and the next create rewrites it. Listing the
folder is one call, made only when an asset the plan looks at lacks its marker.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from databricks.sdk.errors import NotFound, PermissionDenied
from databricks.sdk.service.workspace import ImportFormat

from reconciler.adapters.databricks.sdk import WorkspaceClient
from reconciler.runtime import retry

log = logging.getLogger(__name__)

INTENT_DIR = "/Shared/.reconciler/intents"
SUFFIX = ".json"
CREATE_WINDOW_MS = 20 * 60 * 1000
"""How long after its intent a create may land: the create call's whole retry budget."""
CLOCK_SKEW_MS = 5 * 60 * 1000
"""The workspace files and the asset's service keep their own clocks."""


@dataclass(frozen=True)
class Intent:
    address: str
    project: str
    written_ms: int


def intent_path(address: str, project: str) -> str:
    return f"{INTENT_DIR}/{address}@{project}{SUFFIX}"


def parse_intent(path: str, written_ms: int) -> Intent | None:
    """The intent a file of the folder records (None: not one of ours)."""
    name = path.rsplit("/", 1)[-1]
    if not name.endswith(SUFFIX):
        return None
    address, _, project = name[: -len(SUFFIX)].rpartition("@")
    if not address or not project:
        return None
    return Intent(address=address, project=project, written_ms=written_ms)


def record_intent(client: WorkspaceClient, address: str, project: str) -> None:
    """Written before the create call: from here on a created asset is never unowned."""
    if not project:
        return
    record = {
        "address": address,
        "project": project,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }
    content = base64.b64encode(json.dumps(record).encode()).decode()
    path = intent_path(address, project)

    def write() -> None:
        client.workspace.mkdirs(INTENT_DIR)
        client.workspace.import_(path, content=content, format=ImportFormat.AUTO, overwrite=True)

    retry.call(write, what=f"recording the intent to create {address}", idempotent=True)


def clear_intent(client: WorkspaceClient, address: str, project: str) -> None:
    """Deleted once the asset carries its marker (or is gone)."""
    if not project:
        return
    path = intent_path(address, project)
    with contextlib.suppress(NotFound):
        retry.call(
            lambda: client.workspace.delete(path),
            what=f"clearing the create intent of {address}",
            idempotent=True,
        )


def list_intents(client: WorkspaceClient) -> list[Intent]:
    """Every intent record in the workspace. An identity that may not read the folder (a
    read-only plan identity without the grant) sees none: its plan shows an interrupted create
    as unowned, and the apply, which may read it, plans the marker."""
    try:
        objects = list(client.workspace.list(INTENT_DIR))
    except NotFound:
        return []
    except PermissionDenied as error:
        log.warning("cannot read the create intents in %s: %s", INTENT_DIR, error)
        return []
    found = (parse_intent(str(o.path or ""), int(o.modified_at or 0)) for o in objects)
    return [i for i in found if i is not None]


def intent_owner(intents: Iterable[Intent], address: str, created_ms: int | None) -> str | None:
    """The project whose intent covers an unmarked asset created at ``created_ms``."""
    if created_ms is None:
        return None
    covering = [
        i
        for i in intents
        if i.address == address
        and i.written_ms - CLOCK_SKEW_MS <= created_ms <= i.written_ms + CREATE_WINDOW_MS
    ]
    return max(covering, key=lambda i: i.written_ms).project if covering else None
