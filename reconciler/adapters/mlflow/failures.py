"""MLflow errors read the same over every store: error codes, absence, unreachable servers.

Over http MLflow raises ``RestException`` (a subclass of ``MlflowException``) whose
``error_code`` comes from the server's JSON body; transport failures arrive as a plain
``MlflowException`` whose message holds the requests/urllib3 error. Both are read here.
"""

from __future__ import annotations

import os

from reconciler.adapters.mlflow.reach import Unreachable, classify, host_of, is_http
from reconciler.adapters.mlflow.uris import display_uri, scrub
from reconciler.model.errors import WorkspaceError

MISSING_CODES = frozenset({"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"})
AUTH_CODES = frozenset({"UNAUTHENTICATED", "PERMISSION_DENIED", "CUSTOMER_UNAUTHORIZED"})


def error_code(error: Exception) -> str:
    code = str(getattr(error, "error_code", "") or "")
    body = getattr(error, "json", None)
    if isinstance(body, dict) and body.get("error_code"):
        code = str(body["error_code"])
    return code


def is_missing(error: Exception) -> bool:
    return error_code(error) in MISSING_CODES


def message_of(error: Exception, limit: int = 300) -> str:
    """The error's message on one line, without credentials, at most ``limit`` characters
    (a proxy or a web server answering in place of MLflow sends whole html pages)."""
    text = " ".join(str(getattr(error, "message", None) or error).split())
    head, sep, body = text.partition(" Response body: ")
    if sep and ("<html" in body.lower() or "<!doctype" in body.lower()):
        text = f"{head} (the answer was an html page, not MLflow's JSON)"
    return scrub(text if len(text) <= limit else text[: limit - 1] + "…")


def unreachable(registry_uri: str, target: str | None, found: Unreachable) -> WorkspaceError:
    """The error for a server that cannot be reached: host, target and cause in one line."""
    where = f" (target {target!r})" if target else ""
    return WorkspaceError(
        f"cannot reach the MLflow tracking server at {host_of(registry_uri)}{where}: {found.cause}",
        hint=f"{found.hint}; tracking_uri is {display_uri(registry_uri)}",
    )


def connection_failure(
    error: BaseException, registry_uri: str, target: str | None
) -> WorkspaceError | None:
    """``unreachable(...)`` when ``error`` is a transport failure of an http registry."""
    if not is_http(registry_uri):
        return None
    found = classify(error, host_of(registry_uri))
    return unreachable(registry_uri, target, found) if found is not None else None


def hint_for(error: Exception) -> str | None:
    """What to check for an http answer that is not MLflow's (404) or a refused login."""
    code = error_code(error)
    if code == "ENDPOINT_NOT_FOUND":
        return (
            "the server has no MLflow REST API at that address: check that the target's "
            "tracking_uri points at an MLflow tracking server, with its path prefix if any"
        )
    if code not in AUTH_CODES:
        return None
    if os.environ.get("MLFLOW_TRACKING_TOKEN"):
        sent = "a bearer token (MLFLOW_TRACKING_TOKEN)"
    elif os.environ.get("MLFLOW_TRACKING_USERNAME"):
        sent = "basic auth (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD)"
    else:
        sent = "no credentials"
    return (
        f"MLflow sent {sent}; set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, "
        "or MLFLOW_TRACKING_TOKEN, for this server"
    )
