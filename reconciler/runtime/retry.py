"""The one retry policy of every API call, reads and writes alike.

Each call has one time budget (``retry_budget``, within apply also bounded by the change's own
deadline) covering every transient failure: 429 (honouring ``Retry-After``), 5xx, dropped
connections and resets. The Databricks client runs every HTTP request through ``send`` (see
``reconciler.adapters.databricks.client``), with the SDK's own retry loop switched off, so
retries never stack. What ``send`` cannot decide alone is left to the write that made the call
(``call``): a busy endpoint (409 "update in progress") waits until it is idle, and a create
(POST) whose outcome is unknown (its connection dropped after the request was sent, a 500) is
followed by a read to see whether it happened before it is sent again.

A host that never answered in this run fails at once instead: a name that does not resolve, a
refused connection, a TLS handshake that fails or a connection that gets no answer are not
going to heal within a retry budget, and the user deserves to hear it now, with the host named.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar, cast

import requests
import urllib3.exceptions
from databricks.sdk.errors import (
    AlreadyExists,
    BadRequest,
    DeadlineExceeded,
    InternalError,
    PermissionDenied,
    ResourceAlreadyExists,
    ResourceConflict,
    TemporarilyUnavailable,
    TooManyRequests,
    Unauthenticated,
)
from databricks.sdk.errors.base import DatabricksError

from reconciler.model.errors import WorkspaceError
from reconciler.runtime import context
from reconciler.runtime.context import current_settings

T = TypeVar("T")
log = logging.getLogger(__name__)

BUSY_PHRASES = ("in progress", "currently updating", "is updating", "being updated")
TRANSIENT_CODES = frozenset(
    {"BAD_GATEWAY", "SERVICE_UNAVAILABLE", "TEMPORARILY_UNAVAILABLE", "INTERNAL_ERROR"}
)
TRANSIENT_MESSAGES = (
    "Unexpected error",
    "Please try again later or try a faster operation.",
    "RPC token bucket limit has been exceeded",
    "ClusterNotReadyException",
    "Unknown worker environment",
)
"""Messages the SDK's own loop retries whatever their status (facts sheet section 6.2)."""
AUTH_PHRASES = ("invalid access token", "invalid token", "token is expired", "unauthorized")
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"})
"""Methods whose repetition does what one call does. POST creates and is never repeated
blindly once it may have reached the server."""
MAX_BACKOFF = 30.0
LOUD_AFTER = 10.0
"""Seconds of retrying one call after which a warning says so (quiet before)."""


class Verdict(StrEnum):
    FATAL = "fatal"
    TRANSIENT = "transient"
    """Failed without effect (429, 503, a refused connection): safe to send again."""
    MAYBE = "maybe"
    """Failed, effect unknown (500, 502, 504, a connection dropped after sending, no answer in
    time): safe to send again only when repeating it is harmless (not a POST)."""
    BUSY = "busy"
    UNREACHABLE = "unreachable"
    """No connection at all: DNS, refused, TLS, connect timeout (nothing was sent)."""
    AUTH = "auth"


@dataclass(frozen=True)
class Diagnosis:
    verdict: Verdict
    error: BaseException
    retry_after: float | None = None
    cause: str = ""
    """What happened, in a few words (``connection refused``, ``HTTP 503``)."""
    sdk_waited: bool = False
    """The SDK already slept once (its Retry-After) before giving up: don't sleep it twice."""


def unwrap(error: BaseException) -> tuple[BaseException, bool]:
    """The API error behind the SDK's retry ``TimeoutError``, and whether it was wrapped."""
    cause = error.__cause__
    if isinstance(error, TimeoutError) and isinstance(
        cause, DatabricksError | requests.RequestException
    ):
        return cause, True
    return error, False


def is_busy(error: BaseException) -> bool:
    """A write refused because the endpoint is mid-update (409, or a 400 saying so)."""
    if isinstance(error, AlreadyExists | ResourceAlreadyExists):
        return False
    message = str(error).lower()
    if isinstance(error, ResourceConflict):
        return error.error_code in (None, "RESOURCE_CONFLICT", "ABORTED") or any(
            p in message for p in BUSY_PHRASES
        )
    return isinstance(error, BadRequest) and any(p in message for p in BUSY_PHRASES)


def is_auth_failure(error: BaseException) -> bool:
    """The credentials were refused (401, or the 403 Databricks answers a bad token with)."""
    if isinstance(error, Unauthenticated):
        return True
    return isinstance(error, PermissionDenied) and any(
        p in str(error).lower() for p in AUTH_PHRASES
    )


def _connection_cause(error: requests.RequestException) -> tuple[Verdict, str]:
    """What a requests/urllib3 failure means: never connected, or connected and lost."""
    if isinstance(error, requests.exceptions.SSLError):
        return Verdict.UNREACHABLE, "TLS handshake failed"
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return Verdict.UNREACHABLE, "no answer to the connection attempt"
    if isinstance(error, requests.exceptions.ReadTimeout):
        return Verdict.MAYBE, "no answer in time (read timeout)"
    reason: object = error.args[0] if error.args else None
    reason = getattr(reason, "reason", reason)
    if isinstance(reason, urllib3.exceptions.NameResolutionError):
        return Verdict.UNREACHABLE, "the host name does not resolve (DNS)"
    if isinstance(reason, urllib3.exceptions.NewConnectionError):
        text = str(reason).lower()
        if "refused" in text:
            return Verdict.UNREACHABLE, "connection refused"
        return Verdict.UNREACHABLE, "cannot connect"
    if isinstance(
        reason, urllib3.exceptions.ProtocolError | requests.exceptions.ChunkedEncodingError
    ):
        return Verdict.MAYBE, "the connection was dropped"
    if isinstance(error, requests.ConnectionError):
        return Verdict.MAYBE, "the connection failed"
    return Verdict.FATAL, type(error).__name__


def diagnose(error: BaseException) -> Diagnosis:
    inner, wrapped = unwrap(error)
    if isinstance(inner, requests.RequestException):
        verdict, cause = _connection_cause(inner)
        return Diagnosis(verdict, inner, cause=cause, sdk_waited=wrapped)
    if not isinstance(inner, DatabricksError):
        return Diagnosis(Verdict.FATAL, inner, sdk_waited=wrapped)
    if is_busy(inner):
        return Diagnosis(Verdict.BUSY, inner, cause="busy", sdk_waited=wrapped)
    if is_auth_failure(inner):
        return Diagnosis(Verdict.AUTH, inner, cause="authentication failed", sdk_waited=wrapped)
    after = getattr(inner, "retry_after_secs", None)
    retry_after = float(after) if after is not None else None
    if isinstance(inner, TooManyRequests | TemporarilyUnavailable):
        cause = "throttled (429)" if isinstance(inner, TooManyRequests) else "unavailable (503)"
        return Diagnosis(Verdict.TRANSIENT, inner, retry_after, cause, wrapped)
    generic = type(inner) is DatabricksError and inner.error_code in TRANSIENT_CODES
    if (
        isinstance(inner, InternalError | DeadlineExceeded)
        or generic
        or any(m in str(inner) for m in TRANSIENT_MESSAGES)
    ):
        cause = f"server error ({inner.error_code or type(inner).__name__})"
        return Diagnosis(Verdict.MAYBE, inner, retry_after, cause, wrapped)
    return Diagnosis(Verdict.FATAL, inner, sdk_waited=wrapped)


def backoff(attempt: int, diagnosis: Diagnosis) -> float:
    """Seconds to sleep before attempt ``attempt + 1``."""
    if diagnosis.sdk_waited:
        return 0.05
    if diagnosis.retry_after is not None:
        return diagnosis.retry_after + random.uniform(0, 0.25)
    base: float = min(MAX_BACKOFF, 0.25 * 2**attempt)
    return base * random.uniform(0.5, 1.0)


# --- the transport: every HTTP request ------------------------------------------------------


@dataclass
class Endpoint:
    """The host one client talks to, and what this run learnt about it."""

    where: str
    """How messages name it: the target and its host (``target 'prod' (https://...)``)."""
    budget: float = 300.0
    """Seconds one call may spend being retried, outside apply (apply's settings win there)."""
    auth_method: Callable[[], str | None] = field(default=lambda: None)
    reached: bool = False
    """Some request got an HTTP answer: from then on a refused connection is a blip."""


class GaveUp(WorkspaceError):
    """A call kept failing until its retry budget ran out, or its host cannot be reached."""


def send(fn: Callable[[], T], *, method: str, path: str, endpoint: Endpoint) -> T:
    """Run one HTTP request under the policy; ``fn`` sends it once.

    Transient failures are retried within the budget. Errors only the caller can handle
    (busy, a POST whose effect is unknown, anything fatal) are raised as they are; an
    unreachable host, refused credentials and an exhausted budget become a ``GaveUp`` that
    names the host, the request and the cause.
    """
    started = time.monotonic()
    attempt = 0
    loud = False
    while True:
        try:
            result = fn()
        except Exception as error:
            diagnosis = diagnose(error)
            if isinstance(diagnosis.error, DatabricksError):
                endpoint.reached = True
                # The SDK's own loop would sleep and resend anything carrying Retry-After.
                diagnosis.error.retry_after_secs = None
            verdict = diagnosis.verdict
            if verdict is Verdict.UNREACHABLE and not endpoint.reached:
                raise unreachable(endpoint, diagnosis) from None
            if verdict is Verdict.AUTH:
                raise auth_failed(endpoint, diagnosis) from None
            retry = verdict in (Verdict.TRANSIENT, Verdict.UNREACHABLE) or (
                verdict is Verdict.MAYBE and method.upper() in IDEMPOTENT
            )
            if not retry:
                if verdict is Verdict.MAYBE:
                    mark_unknown_outcome(diagnosis.error)
                raise diagnosis.error from None
            spent = time.monotonic() - started
            delay = backoff(attempt, diagnosis)
            what = f"{method} {path}"
            limit = current_settings().retry_budget if context.current() else endpoint.budget
            if min(limit - spent, context.check_deadline(what)) <= delay:
                raise exhausted(endpoint, what, diagnosis, spent, attempt + 1) from None
            attempt += 1
            if not loud and spent + delay >= LOUD_AFTER:
                loud = True
                log.warning(
                    "%s: %s keeps failing (%s); retrying for up to %.0fs",
                    endpoint.where,
                    what,
                    diagnosis.cause,
                    limit,
                )
            else:
                log.info("%s: retrying %s after %s", endpoint.where, what, diagnosis.cause)
            with context.waiting(f"retry {what} in {delay:.1f}s"):
                context.sleep(delay)
        else:
            endpoint.reached = True
            return result


UNKNOWN_OUTCOME = "_reconciler_unknown_outcome"
FINAL = "_reconciler_retried"


def mark_unknown_outcome(error: BaseException) -> None:
    setattr(error, UNKNOWN_OUTCOME, True)


def is_final(error: BaseException) -> bool:
    """The transport already spent the call's retry budget on this error."""
    return bool(getattr(error, FINAL, False))


def unknown_outcome(error: BaseException) -> bool:
    """The request may have taken effect although it failed (a POST that got no answer)."""
    return bool(getattr(error, UNKNOWN_OUTCOME, False))


_UNREACHABLE_HINTS = {
    "the host name does not resolve (DNS)": "check the host name in the target (a typo?) and"
    " that this machine's DNS (VPN, private link) can resolve it",
    "connection refused": "nothing listens at that address: check the host and port of the"
    " target (a local sandbox: is 'reconciler sandbox serve' running?)",
    "TLS handshake failed": "is the scheme right (http:// for a local sandbox, https:// for a"
    " workspace)? Behind a TLS-inspecting proxy, point REQUESTS_CA_BUNDLE at its certificate",
    "no answer to the connection attempt": "a firewall may drop the connection: check the host,"
    " the VPN, or raise connect_timeout for the target",
}


def unreachable(endpoint: Endpoint, diagnosis: Diagnosis) -> GaveUp:
    detail = low_level_reason(diagnosis.error)
    return GaveUp(
        f"{endpoint.where}: cannot reach the workspace: {diagnosis.cause}"
        + (f" ({detail})" if detail else ""),
        hint=_UNREACHABLE_HINTS.get(
            diagnosis.cause, "check the target's host and this machine's network access to it"
        ),
    )


def no_answer(endpoint: Endpoint, seconds: float) -> GaveUp:
    """The host accepted a connection and said nothing: a proxy holding it, or not a workspace."""
    return GaveUp(
        f"{endpoint.where}: the host accepted the connection but sent no answer within"
        f" {seconds:g}s",
        hint="is this a Databricks workspace URL? A proxy or firewall may be holding the"
        " connection; if the workspace is only slow, raise read_timeout for the target"
        " (or --read-timeout)",
    )


def auth_failed(endpoint: Endpoint, diagnosis: Diagnosis) -> GaveUp:
    method = endpoint.auth_method() or "unknown"
    return GaveUp(
        f"{endpoint.where}: authentication failed (auth method tried: {method}):"
        f" {_first_line(diagnosis.error)}",
        hint="check the credentials of that auth method (an expired or revoked token, a wrong"
        " profile, a service principal without workspace access); 'databricks auth describe'"
        " shows what the SDK picks up",
    )


def exhausted(
    endpoint: Endpoint, what: str, diagnosis: Diagnosis, spent: float, attempts: int
) -> BaseException:
    """The last error, saying how long it was retried; a lost connection becomes a GaveUp."""
    note = f"gave up after {attempts} attempts in {spent:.0f}s"
    error = diagnosis.error
    if isinstance(error, DatabricksError):
        error.args = (f"{_first_line(error)} ({endpoint.where}, {what}: {note})",)
        setattr(error, FINAL, True)
        return error
    hint = (
        "the workspace kept throttling: lower --parallelism, or retry later"
        if diagnosis.cause.startswith("throttled")
        else "the workspace or the network to it is failing; retry later"
    )
    return GaveUp(f"{endpoint.where}: {what} failed: {diagnosis.cause}; {note}", hint=hint)


def low_level_reason(error: BaseException) -> str:
    """The socket's or TLS library's own words behind a requests error, without urllib3's
    wrapping (``[Errno 111] Connection refused``, ``[SSL: WRONG_VERSION_NUMBER] ...``)."""
    reason: object = error.args[0] if error.args else error
    reason = getattr(reason, "reason", reason)
    while (
        isinstance(reason, BaseException)
        and reason.args
        and isinstance(reason.args[0], BaseException)
    ):
        reason = reason.args[0]
    text = str(reason)
    if isinstance(reason, BaseException) and len(reason.args) > 1:
        text = str(reason.args[-1])
    return text.rsplit("): ", 1)[-1].strip()


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    return line.split(". Config:")[0]


# --- the writes: busy endpoints, creates of unknown outcome ---------------------------------


def call(
    fn: Callable[[], T],
    *,
    what: str,
    wait_idle: Callable[[], None] | None = None,
    budget: float | None = None,
    idempotent: bool = False,
) -> T:
    """Run a write (or a read on a write path) under the policy.

    ``wait_idle`` is called when the target answers busy: it returns once the asset is idle
    (the serving endpoint no longer IN_PROGRESS). Transient failures were retried by the
    client's transport already; on a bare SDK client (no transport) they are retried here.
    A POST whose outcome is unknown is sent again only when ``idempotent`` (sending it twice
    does what once does: a tag set, a file written with overwrite); ``create`` is for
    creates. The error that ends the retries is raised unwrapped, with the API's own message.
    """
    happened = (lambda: False) if idempotent else None
    return cast(T, _run(fn, what=what, wait_idle=wait_idle, happened=happened, budget=budget))


def create(
    fn: Callable[[], object],
    *,
    what: str,
    happened: Callable[[], bool],
    wait_idle: Callable[[], None] | None = None,
) -> None:
    """A create (POST) under the policy: after it failed with an unknown outcome (no answer,
    a dropped connection, a 5xx), ``happened`` says whether it took effect anyway (a read of
    the new asset, with our marker where it carries one); if not, it is sent again."""
    _run(fn, what=what, wait_idle=wait_idle, happened=happened, budget=None)


def _run(
    fn: Callable[[], T],
    *,
    what: str,
    wait_idle: Callable[[], None] | None,
    happened: Callable[[], bool] | None,
    budget: float | None,
) -> T | None:
    limit = budget if budget is not None else current_settings().retry_budget
    started = time.monotonic()
    attempt = 0
    while True:
        try:
            return fn()
        except Exception as error:
            if isinstance(error, GaveUp) or is_final(error):
                raise
            diagnosis = diagnose(error)
            verdict = diagnosis.verdict
            if verdict is Verdict.MAYBE or unknown_outcome(diagnosis.error):
                if happened is not None and happened():
                    log.info("%s: done, although the call failed (%s)", what, diagnosis.cause)
                    return None
                if happened is None and unknown_outcome(diagnosis.error):
                    raise diagnosis.error from None
            elif verdict in (Verdict.FATAL, Verdict.AUTH):
                if diagnosis.sdk_waited:
                    raise diagnosis.error from None
                raise
            spent = time.monotonic() - started
            delay = backoff(attempt, diagnosis)
            if min(limit - spent, context.check_deadline(what)) <= delay:
                raise diagnosis.error from None
            attempt += 1
            log.info("retrying %s after %s (%s)", what, diagnosis.cause or verdict.value, attempt)
            if verdict is Verdict.BUSY and wait_idle is not None:
                wait_idle()
            with context.waiting(f"retry {what} in {delay:.1f}s"):
                context.sleep(delay)
