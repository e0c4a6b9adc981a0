"""One connection to an MLflow registry: the client, made once, and errors translated.

For a tracking server the client is handed out only after one quick probe reached the server
(``reach.py``), so an unreachable host fails in seconds, naming the host and the target,
instead of after MLflow's minutes of retries.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from mlflow import MlflowClient

from reconciler.adapters.mlflow.failures import (
    connection_failure,
    hint_for,
    message_of,
    unreachable,
)
from reconciler.adapters.mlflow.reach import (
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    RETRY_BUDGET,
    host_of,
    is_http,
    probe,
)
from reconciler.adapters.mlflow.uris import display_uri, resolve_uris, sqlite_path
from reconciler.model.errors import WorkspaceError

_T = TypeVar("_T")
_K = TypeVar("_K", bound=Hashable)


class _PoolFull(logging.Filter):
    """urllib3 warns for each connection it cannot keep when more threads than MLflow's pool
    size (10) call at once (an apply with a higher --parallelism): harmless, and noisy."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Connection pool is full")


def _quiet_pool_warnings() -> None:
    pool_logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _PoolFull) for f in pool_logger.filters):
        pool_logger.addFilter(_PoolFull())


class MlflowConnection:
    """The MLflow client of one registry, shared by the threads of one command."""

    def __init__(
        self,
        tracking_uri: str | None = None,
        *,
        registry_uri: str | None = None,
        project: str | None = None,
        root: Path | None = None,
        max_workers: int | None = None,
        client: MlflowClient | None = None,
        target: str | None = None,
        connect_budget: float | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
    ) -> None:
        self.tracking_uri, self.registry_uri = resolve_uris(tracking_uri, registry_uri, root)
        self.project = project
        self.target = target
        # Seconds refused connections are retried before the first call (None: the default).
        self._connect_budget = connect_budget
        # The probe's timeouts: the target's (or the run's), else reach.py's defaults.
        self._connect_timeout = connect_timeout or CONNECT_TIMEOUT
        self._read_timeout = min(read_timeout or READ_TIMEOUT, READ_TIMEOUT)
        self._unreachable: WorkspaceError | None = None
        self._sqlite = sqlite_path(self.registry_uri)
        # sqlite serializes writers anyway; threads only add "database is locked" errors.
        self._workers = max_workers or (1 if self._sqlite is not None else 8)
        self._client = client
        self._lock = threading.Lock()
        self._write_lock = threading.Lock() if self._sqlite is not None else None
        self._calls = 0

    @property
    def registry(self) -> MlflowClient:
        """The MLflow client; for a tracking server, only once one probe reached it."""
        with self._lock:
            if self._unreachable is not None:
                raise self._unreachable
            if self._client is None:
                for noisy in ("mlflow.store.db.utils", "alembic", "mlflow.store.db"):
                    logging.getLogger(noisy).setLevel(logging.WARNING)
                if self._sqlite is not None:  # e.g. .reconciler/mlflow.db in a fresh clone
                    self._sqlite.parent.mkdir(parents=True, exist_ok=True)
                client = MlflowClient(
                    tracking_uri=self.tracking_uri, registry_uri=self.registry_uri
                )
                if is_http(self.registry_uri):
                    _quiet_pool_warnings()
                    self._check_reachable(client)
                self._client = client
            return self._client

    def _check_reachable(self, client: MlflowClient) -> None:
        try:  # MLflow's own credentials and TLS settings, as every later call uses them
            registry_client: Any = client._get_registry_client
            creds = registry_client().store.get_host_creds()
        except AttributeError:  # an MLflow without these internals: no probe, MLflow retries
            return
        budget = RETRY_BUDGET if self._connect_budget is None else self._connect_budget
        found = probe(
            creds,
            host_of(self.registry_uri),
            budget=budget,
            connect_timeout=self._connect_timeout,
            read_timeout=self._read_timeout,
        )
        if found is not None:
            self._unreachable = unreachable(self.registry_uri, self.target, found)
            raise self._unreachable

    def _call(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        with self._lock:
            self._calls += 1
        return fn(*args, **kwargs)

    def _map(self, fn: Callable[[_K], _T], items: Iterable[_K]) -> dict[_K, _T]:
        keys = list(dict.fromkeys(items))
        if self._workers <= 1 or len(keys) <= 1:
            return {k: fn(k) for k in keys}
        with ThreadPoolExecutor(max_workers=min(self._workers, len(keys))) as pool:
            return dict(zip(keys, pool.map(fn, keys), strict=True))

    def error_for(self, error: Exception, what: str, address: str | None = None) -> WorkspaceError:
        """The user's error for a failed write: unreachable server, or what MLflow said."""
        if (down := connection_failure(error, self.registry_uri, self.target)) is not None:
            if address is not None:
                down.address = address
            return down
        return WorkspaceError(
            f"MLflow registry at {self._display_uri()} refused to {what}: {message_of(error)}",
            address=address,
            hint=hint_for(error),
        )

    def read_error(self, error: Exception, what: str) -> WorkspaceError:
        """The user's error for a failed read of the registry."""
        if (down := connection_failure(error, self.registry_uri, self.target)) is not None:
            return down
        return WorkspaceError(
            f"cannot {what} the MLflow registry at {self._display_uri()}: {message_of(error)}",
            hint=hint_for(error)
            or "check the target's tracking_uri and that the registry is reachable",
        )

    def _display_uri(self) -> str:
        return display_uri(self.registry_uri)
