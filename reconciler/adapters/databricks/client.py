"""Building the databricks-sdk client: one place for timeouts, pool sizes and auth.

Real targets use the SDK's unified auth (environment, ``~/.databrickscfg`` profile, OAuth); the
sandbox takes any token, so it gets a fixed placeholder with ``auth_type="pat"`` (which also
keeps stray ``DATABRICKS_*`` credentials in the environment from mixing in). The token is never
logged or printed: errors show the host and the auth type only. With
``RECONCILER_ALLOWED_HOSTS`` set, a real target's host is checked before the SDK is even
configured (``reconciler.adapters.hosts``); the sandbox is loopback and never checked.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any

import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config

from reconciler.adapters.hosts import check_databricks_config
from reconciler.model.errors import WorkspaceError
from reconciler.project import Target

SANDBOX_TOKEN = "sandbox"
_LOOPBACK = ("http://127.0.0.1", "http://localhost")


class _QuietLoopbackProbe(logging.Filter):
    """The sandbox has no host metadata; the SDK's warning about it is noise there."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not ("host metadata" in text and any(h in text for h in _LOOPBACK))


_QUIET = _QuietLoopbackProbe()


@dataclass(frozen=True)
class ClientSettings:
    """Transport knobs (the retry policy of writes is ``reconciler.runtime.retry``)."""

    retry_timeout_seconds: int = 120
    """How long the SDK keeps retrying 429/503 and connection errors for one call."""
    http_timeout_seconds: int = 60
    pool_size: int = 32
    """Connections kept per host; at least the read concurrency, so threads never wait on it."""


DEFAULT_SETTINGS = ClientSettings()


def sandbox_client(url: str, settings: ClientSettings = DEFAULT_SETTINGS) -> WorkspaceClient:
    sdk_log = logging.getLogger("databricks.sdk")
    if _QUIET not in sdk_log.filters:
        sdk_log.addFilter(_QUIET)
    return _build({"host": url, "token": SANDBOX_TOKEN, "auth_type": "pat"}, settings, where=url)


def target_client(target: Target, settings: ClientSettings = DEFAULT_SETTINGS) -> WorkspaceClient:
    """Unified auth: ``host``/``profile`` from the target, everything else from the SDK chain."""
    kwargs: dict[str, Any] = {}
    if target.host:
        kwargs["host"] = target.host
    if target.profile:
        kwargs["profile"] = target.profile
    where = target.host or (f"profile {target.profile}" if target.profile else "default auth")
    # Before the SDK's constructor: it already probes the host and may exchange an OIDC token.
    check_databricks_config(kwargs, where=f"databricks target ({where})")
    return _build(kwargs, settings, where=where)


def _build(kwargs: dict[str, Any], settings: ClientSettings, *, where: str) -> WorkspaceClient:
    try:
        config = Config(
            **kwargs,
            retry_timeout_seconds=settings.retry_timeout_seconds,
            http_timeout_seconds=settings.http_timeout_seconds,
            max_connection_pools=settings.pool_size,
            max_connections_per_pool=settings.pool_size,
        )
    except Exception as exc:  # the SDK raises ValueError and its own errors for auth problems
        raise WorkspaceError(
            f"cannot configure a Databricks client for {where}: {_first_line(exc)}",
            hint="check the target's host/profile, or DATABRICKS_HOST and its credentials"
            " (see 'databricks auth login')",
        ) from None
    client = WorkspaceClient(config=config)
    _pool_plain_http(client, settings.pool_size)
    return client


def _pool_plain_http(client: WorkspaceClient, size: int) -> None:
    """The SDK sizes its connection pool for https only; the sandbox speaks http."""
    session = getattr(getattr(client.api_client, "_api_client", None), "_session", None)
    if isinstance(session, requests.Session):
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=size, pool_maxsize=size, pool_block=True
        )
        session.mount("http://", adapter)


def session_of(client: WorkspaceClient) -> requests.Session | None:
    """The SDK's HTTP session, so the adapter can watch responses (call counts, 429s)."""
    session = getattr(getattr(client.api_client, "_api_client", None), "_session", None)
    return session if isinstance(session, requests.Session) else None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    # The SDK appends a config dump to auth errors; keep only what precedes it.
    return line.split(". Config:")[0]


# --- the client writes use -------------------------------------------------------------

SDK_RETRY_SECONDS = 1
"""The SDK's own retry window for apply calls (it accepts whole seconds, at least 1)."""


def short_retry_client(
    client: WorkspaceClient, seconds: int = SDK_RETRY_SECONDS
) -> WorkspaceClient:
    """The same auth and host, with the SDK's own retry loop (429/503 for
    ``retry_timeout_seconds``, then a builtin ``TimeoutError``) cut to one short window, so
    that ``reconciler.runtime.retry`` decides (Retry-After, busy endpoints, the change's own
    budget) and reports the API's own error. Reads keep the generous budget."""
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
