"""Reaching an MLflow tracking server: one quick probe, and errors that say why it failed.

MLflow retries every failed http request itself (``MLFLOW_HTTP_REQUEST_MAX_RETRIES``, default 7,
with exponential backoff): right for a server that rate-limits, but it makes a plan against a
closed port or a misspelt host take about four minutes before it fails. So before the first
registry call the adapter sends one ``GET /health`` with MLflow's own credentials and TLS
settings and no MLflow retries: any http answer (even 401 or 404) means the server is there.
Refused connections and failed name lookups are tried again for a few seconds (a server that is
restarting); TLS failures are not. After a good probe MLflow's retries apply as usual.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mlflow.utils import rest_utils

CONNECT_TIMEOUT = 5.0
"""Seconds one probe waits for the TCP (and TLS) connection (a target's ``connect_timeout``, or
``--connect-timeout``, replaces it)."""
READ_TIMEOUT = 10.0
"""Seconds one probe waits for the answer to ``GET /health``: a target's ``read_timeout`` (or
``--read-timeout``) shortens it, never lengthens it (the answer is a few bytes)."""
RETRY_BUDGET = 3.0
"""Seconds during which refused connections and failed name lookups are tried again."""
_PAUSES = (0.5, 1.0, 1.5)


@dataclass(frozen=True)
class Unreachable:
    """Why a server could not be reached: a short cause and a hint that fits it."""

    cause: str
    hint: str
    transient: bool


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and everything it wraps: causes, contexts, urllib3's ``reason``, args."""
    seen: set[int] = set()
    todo: list[Any] = [error]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]


def _names(error: BaseException) -> set[str]:
    return {cls.__name__ for e in _chain(error) for cls in type(e).__mro__}


def classify(
    error: BaseException,
    host: str,
    *,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
) -> Unreachable | None:
    """What kind of connection failure ``error`` is, or None when the server did answer.

    Matched on class names along the exception chain (requests, urllib3, ssl, socket), so no
    http library is imported here. Order matters: urllib3's ``NewConnectionError`` (a refused
    connection, a failed name lookup) is a subclass of its ``ConnectTimeoutError``.
    """
    names = _names(error)
    text = " ".join(str(e) for e in _chain(error))
    if names & {"SSLError", "SSLCertVerificationError", "SSLZeroReturnError"}:
        return Unreachable(
            "the TLS handshake failed",
            "check that the server speaks https on that port and that its certificate is "
            "trusted (MLFLOW_TRACKING_SERVER_CERT_PATH names a CA bundle; "
            "MLFLOW_TRACKING_INSECURE_TLS=true skips the check)",
            transient=False,
        )
    if names & {"NameResolutionError", "gaierror"} or "Failed to resolve" in text:
        return Unreachable(
            f"the host name {host.rsplit(':', 1)[0]!r} does not resolve",
            "check the host in the target's tracking_uri, and DNS or VPN access",
            transient=True,
        )
    if "ConnectionRefusedError" in names or "Connection refused" in text:
        return Unreachable(
            "the connection was refused (nothing listens on that port)",
            "start the tracking server (`mlflow server --host ... --port ...`) or fix the "
            "port in the target's tracking_uri",
            transient=True,
        )
    if names & {"ReadTimeout", "ReadTimeoutError"} or "Read timed out" in text:
        return Unreachable(
            f"the server took the connection but did not answer within {read_timeout:g}s",
            "check that the port belongs to an MLflow server and that it is not overloaded",
            transient=False,
        )
    if names & {"ConnectTimeout", "ConnectTimeoutError", "TimeoutError"} or "timed out" in text:
        return Unreachable(
            f"no answer to the connection within {connect_timeout:g}s",
            "check the host and port in the target's tracking_uri, and that no firewall "
            "drops the traffic",
            transient=False,
        )
    if names & {"NewConnectionError", "ConnectionError", "ProtocolError", "RemoteDisconnected"}:
        return Unreachable(
            "the connection failed",
            "check the target's tracking_uri and that the server is up",
            transient=True,
        )
    return None


def host_of(uri: str) -> str:
    """``host:port`` of an http(s) URI, without credentials."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    return f"{host}:{parts.port}" if parts.port else host


def is_http(uri: str) -> bool:
    return urlsplit(uri).scheme in ("http", "https")


def probe(
    host_creds: Any,
    host: str,
    *,
    budget: float = RETRY_BUDGET,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
) -> Unreachable | None:
    """``GET /health`` once (more for transient failures within ``budget`` seconds), waiting
    ``connect_timeout`` for the connection and ``read_timeout`` for the answer.

    Returns None when the server answered anything at all, else why it cannot be reached.
    """
    http_request: Any = rest_utils.http_request  # untyped; MLflow's retries, auth and TLS
    deadline = time.monotonic() + budget
    pauses = iter(_PAUSES)
    while True:
        try:
            http_request(
                host_creds,
                "/health",
                "GET",
                max_retries=0,
                backoff_factor=0,
                backoff_jitter=0,
                timeout=(connect_timeout, read_timeout),
                raise_on_status=False,
                retry_codes=(),
            )
            return None
        except Exception as error:  # MLflow wraps every requests failure in MlflowException
            found = classify(
                error, host, connect_timeout=connect_timeout, read_timeout=read_timeout
            )
            if found is None:
                return None  # not a connection failure: let the real call report it
            pause = next(pauses, None)
            if not found.transient or pause is None or time.monotonic() + pause > deadline:
                return found
            sleep(pause)
