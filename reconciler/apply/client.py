"""The SDK client apply writes with: the same auth and host, short SDK retries.

The SDK retries 429/503 by itself for ``retry_timeout_seconds`` and then raises a builtin
``TimeoutError``. Reads keep the client's generous budget; for writes that loop is cut to one
short window so that ``reconciler.runtime.retry`` decides (Retry-After, busy endpoints, the
change's own budget) and reports the API's own error.
"""

from __future__ import annotations

import copy

import requests
from databricks.sdk import WorkspaceClient

from reconciler.workspace.client import session_of

SDK_RETRY_SECONDS = 1
"""The SDK's own retry window for apply calls (it accepts whole seconds, at least 1)."""


def short_retry_client(
    client: WorkspaceClient, seconds: int = SDK_RETRY_SECONDS
) -> WorkspaceClient:
    config = copy.copy(client.config)
    # Config attributes live in one dict; give the copy its own before changing a value.
    config._inner = dict(config._inner)
    config.retry_timeout_seconds = seconds
    fresh = WorkspaceClient(config=config)
    old, new = session_of(client), session_of(fresh)
    if old is not None and new is not None:
        for prefix, adapter in old.adapters.items():
            if isinstance(adapter, requests.adapters.HTTPAdapter):
                new.mount(
                    prefix,
                    requests.adapters.HTTPAdapter(
                        pool_connections=adapter._pool_connections,
                        pool_maxsize=adapter._pool_maxsize,
                        pool_block=adapter._pool_block,
                    ),
                )
    return fresh
