"""The Databricks adapter: the same code for real workspaces and the sandbox.

It reads only what a ReadRequest names, plus (for prune) what the project owns. List calls are
used where their items carry the fields (Vector Search endpoints, with their tags); otherwise
concurrent GETs (serving list items are summaries, index list items have no spec, models need
``include_aliases``). Each kind module reads, maps and writes its kinds (``kinds.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from reconciler.adapters.databricks.client import session_of
from reconciler.adapters.databricks.concurrency import (
    DEFAULT_MAXIMUM,
    AdaptiveLimiter,
    CallMeter,
    Pool,
)
from reconciler.adapters.databricks.kinds import (
    adapter_for,
    health_of,
    normalize,
    readers,
    unmodelled,
)
from reconciler.adapters.databricks.reading import ROUNDS, ReadRun
from reconciler.adapters.databricks.sdk import WorkspaceClient
from reconciler.model.changes import Change
from reconciler.model.errors import ApplyError, WorkspaceError
from reconciler.model.live import LiveAsset, LiveState, ReadRequest, Workspace
from reconciler.model.resources import KindName
from reconciler.runtime.context import current_settings
from reconciler.runtime.settings import ApplySettings

log = logging.getLogger(__name__)


class DatabricksWorkspace(Workspace):
    name = "databricks"
    capabilities = frozenset(KindName)

    def __init__(
        self,
        client: WorkspaceClient,
        *,
        max_concurrency: int | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.client = client
        self.limiter = AdaptiveLimiter(max_concurrency or DEFAULT_MAXIMUM)
        self.meter = CallMeter(self.limiter)
        self.meter.attach(session_of(client))
        self.pool = Pool(self.limiter)
        self._on_close = on_close

    def read(self, request: ReadRequest) -> LiveState:
        started, calls, throttled = time.perf_counter(), self.meter.calls, self.limiter.throttled
        run = ReadRun(self.client, request, normalize, unmodelled, health_of)
        kind_readers = readers(run)
        for number in range(ROUNDS):
            self.pool.run([task for reader in kind_readers for task in reader.round(number)])
        for reader in kind_readers:
            reader.assemble()
        live = run.live
        live.api_calls = self.meter.calls - calls
        live.throttled = self.limiter.throttled - throttled
        live.seconds = time.perf_counter() - started
        log.debug("read %d assets with %d calls", len(live.assets), live.api_calls)
        return live

    def apply_change(self, change: Change, live: LiveAsset | None) -> None:
        apply_change(self.client, change, live)

    def list_names(self, kind: KindName) -> list[str]:
        lister = adapter_for(kind).list_names
        if lister is None:
            raise WorkspaceError(f"cannot list {kind.value} assets on their own")
        return lister(self.client)

    def close(self) -> None:
        self.pool.close()
        if self._on_close is not None:
            self._on_close()
            self._on_close = None


def apply_change(
    client: WorkspaceClient,
    change: Change,
    live: LiveAsset | None,
    settings: ApplySettings | None = None,
) -> None:
    """Execute ``change`` and return once the asset has settled; raise on failure."""
    try:
        handler = adapter_for(change.kind).apply
    except WorkspaceError:
        raise ApplyError(
            f"no write calls for kind {change.kind!r}", address=change.address
        ) from None
    handler(client, change, live, settings or current_settings())
