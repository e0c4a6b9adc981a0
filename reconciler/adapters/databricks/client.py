"""Building the databricks-sdk client: one place for timeouts, retries, pool sizes and auth.

Real targets use the SDK's unified auth (environment, ``~/.databrickscfg`` profile, OAuth); the
sandbox takes any token, so it gets a fixed placeholder with ``auth_type="pat"`` (which also
keeps stray ``DATABRICKS_*`` credentials in the environment from mixing in). The token is never
logged or printed: errors show the host and the auth method only. With
``RECONCILER_ALLOWED_HOSTS`` set, a real target's host is checked before the SDK is even
configured (``reconciler.adapters.hosts``); the sandbox is loopback and never checked.

Every HTTP request of the client runs through ``reconciler.runtime.retry.send``: one retry
policy for reads and writes, one budget per call. The SDK's own retry loop is switched off
(it would retry 429/503 and lost connections for ``retry_timeout_seconds`` underneath ours,
multiplying the budgets). Before the SDK's host-metadata probe (which it retries for its whole
retry window against an unreachable host), the host is probed once with the connect and read
timeouts: a host that cannot be reached fails in seconds, with the cause named.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from databricks.sdk.config import Config

from reconciler.adapters.databricks.sdk import WorkspaceClient
from reconciler.adapters.hosts import check_databricks_config
from reconciler.model.errors import ReconcilerError, WorkspaceError
from reconciler.project import Target
from reconciler.runtime import retry
from reconciler.runtime.retry import Endpoint

log = logging.getLogger(__name__)
SANDBOX_TOKEN = "sandbox"
HOST_METADATA = "/.well-known/databricks-config"
PROBE_READ_TIMEOUT = 15.0
"""The probe's answer is a small static document: a host that holds the connection longer
than this (or ``read_timeout``, if shorter) is not going to serve the API either."""
SDK_PROBE_RETRY_SECONDS = 10
"""The SDK's own probe, made only once ours got an answer, retries 429/503 this long."""


@dataclass(frozen=True)
class ClientSettings:
    """Transport knobs; the retry policy itself is ``reconciler.runtime.retry``."""

    retry_timeout_seconds: float = 300.0
    """How long one call keeps being retried (429, 5xx, dropped connections) before the
    error surfaces; within apply, the apply's ``retry_budget`` and the change's deadline."""
    connect_timeout: float = 10.0
    """Seconds to wait for a TCP (and TLS) connection."""
    read_timeout: float = 60.0
    """Seconds to wait for an answer once a request is sent."""
    pool_size: int = 64
    """Connections kept per host; at least the read concurrency, so threads never wait on it."""

    @classmethod
    def for_target(cls, target: Target) -> ClientSettings:
        """The defaults, with the target's ``connect_timeout``/``read_timeout``, and a pool as
        large as its ``max_concurrency``."""
        defaults = cls()
        return cls(
            connect_timeout=target.connect_timeout or defaults.connect_timeout,
            read_timeout=target.read_timeout or defaults.read_timeout,
            pool_size=max(defaults.pool_size, target.max_concurrency or 0),
        )


DEFAULT_SETTINGS = ClientSettings()


def sandbox_client(url: str, settings: ClientSettings = DEFAULT_SETTINGS) -> WorkspaceClient:
    kwargs = {"host": url, "token": SANDBOX_TOKEN, "auth_type": "pat"}
    return _build(kwargs, settings, label="sandbox", where=f"sandbox ({url})")


def target_client(
    target: Target, settings: ClientSettings | None = None, *, name: str | None = None
) -> WorkspaceClient:
    """Unified auth: ``host``/``profile`` from the target, everything else from the SDK chain."""
    kwargs: dict[str, Any] = {}
    if target.host:
        kwargs["host"] = target.host
    if target.profile:
        kwargs["profile"] = target.profile
    label = f"target {name!r}" if name else "databricks target"
    where = target.host or (f"profile {target.profile}" if target.profile else "default auth")
    # Before the SDK's constructor: it already probes the host and may exchange an OIDC token.
    check_databricks_config(kwargs, where=f"{label} ({where})")
    settings = settings or ClientSettings.for_target(target)
    return _build(kwargs, settings, label=label, where=f"{label} ({where})")


class _ProbedConfig(Config):
    """The SDK's configuration, whose host-metadata step first checks, once and with our
    timeouts, that the host answers at all (``probe``)."""

    @classmethod
    def attributes(cls) -> Any:
        return Config.attributes()  # declared on Config; a subclass would find none

    def __init__(self, *, probe: Callable[[str], bool], **kwargs: Any) -> None:
        self._reconciler_probe = probe
        super().__init__(**kwargs)

    def _resolve_host_metadata(self) -> None:
        if self.host and self._reconciler_probe(self.host):
            super()._resolve_host_metadata()


def _build(
    kwargs: dict[str, Any], settings: ClientSettings, *, label: str, where: str
) -> WorkspaceClient:
    endpoint = Endpoint(where=where, budget=settings.retry_timeout_seconds)

    def probe(host: str) -> bool:
        endpoint.where = f"{label} ({host})"
        return probe_host(host, endpoint, settings)

    try:
        config = _ProbedConfig(
            probe=probe,
            **kwargs,
            retry_timeout_seconds=SDK_PROBE_RETRY_SECONDS,
            http_timeout_seconds=settings.read_timeout,
            max_connection_pools=settings.pool_size,
            max_connections_per_pool=settings.pool_size,
        )
    except ReconcilerError:
        raise
    except Exception as exc:  # the SDK raises ValueError and its own errors for auth problems
        raise WorkspaceError(
            f"cannot configure a Databricks client for {endpoint.where}: {_first_line(exc)}",
            hint="check the target's host/profile, or DATABRICKS_HOST and its credentials"
            " (see 'databricks auth login')",
        ) from None
    endpoint.auth_method = lambda: config.auth_type
    client = WorkspaceClient(config=config)
    install_transport(client, endpoint, settings)
    return client


def probe_host(host: str, endpoint: Endpoint, settings: ClientSettings) -> bool:
    """One unauthenticated GET of the host metadata: whether the host serves it (200).

    Raises ``GaveUp`` naming the cause when the host cannot be reached (DNS, refused, TLS,
    no answer): the SDK would retry its own probe for minutes, then every call again.
    """
    read = min(settings.read_timeout, PROBE_READ_TIMEOUT)
    url = host.rstrip("/") + HOST_METADATA
    for attempt in range(2):
        try:
            response = requests.get(
                url, timeout=(settings.connect_timeout, read), allow_redirects=False
            )
        except requests.exceptions.ReadTimeout:
            raise retry.no_answer(endpoint, read) from None
        except requests.RequestException as error:
            diagnosis = retry.diagnose(error)
            if diagnosis.verdict is retry.Verdict.MAYBE and attempt == 0:
                continue  # a dropped connection: once more
            raise retry.unreachable(endpoint, diagnosis) from None
        endpoint.reached = True
        return response.status_code == 200
    return False  # pragma: no cover - the loop returns or raises


def _never(_error: BaseException) -> str | None:
    return None


def install_transport(
    client: WorkspaceClient, endpoint: Endpoint, settings: ClientSettings
) -> None:
    """Route every request of ``client`` through the retry policy, with (connect, read)
    timeouts, and switch the SDK's own retry loop off (``tests/adapters/databricks/
    test_transport.py`` checks the SDK internals this relies on still exist)."""
    base = client.api_client._api_client
    send_once = base._perform

    def perform(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        path = urlsplit(url).path
        return retry.send(
            lambda: send_once(method, url, *args, **kwargs),
            method=method,
            path=path,
            endpoint=endpoint,
        )

    # Instance attributes shadow the SDK's methods and timeout (private: guarded by a test).
    setattr(base, "_perform", perform)  # noqa: B010
    setattr(base, "_is_retryable", _never)  # noqa: B010
    setattr(base, "_http_timeout_seconds", (settings.connect_timeout, settings.read_timeout))  # noqa: B010
    _pool_plain_http(client, settings.pool_size)


def _pool_plain_http(client: WorkspaceClient, size: int) -> None:
    """The SDK sizes its connection pool for https only; the sandbox speaks http."""
    session = session_of(client)
    if session is not None:
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
