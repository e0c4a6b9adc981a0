"""Where an MLflow registry lives: target ``tracking_uri`` values resolved to client URIs."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
"""MLflow's own default store, resolved against the project root."""
_USERINFO = re.compile(r"://[^/@\s]+@")


def resolve_uris(
    tracking_uri: str | None, registry_uri: str | None = None, root: Path | None = None
) -> tuple[str, str]:
    """The (tracking, registry) URI pair for a target's ``tracking_uri``.

    ``databricks-uc`` names the registry; its tracking side is ``databricks`` (same profile).
    A relative sqlite path is taken from the project root, not the shell's directory.
    """
    uri = tracking_uri or DEFAULT_TRACKING_URI
    if uri.startswith("sqlite:///") and root is not None:
        path = uri.removeprefix("sqlite:///")
        if path and not path.startswith("/") and not path.startswith(":memory:"):
            uri = "sqlite:///" + str((root / path).resolve())
    if registry_uri is not None:
        return uri, registry_uri
    if uri.startswith("databricks-uc"):
        return "databricks" + uri.removeprefix("databricks-uc"), uri
    return uri, uri


def sqlite_path(uri: str) -> Path | None:
    if not uri.startswith("sqlite:///"):
        return None
    path = uri.removeprefix("sqlite:///").split("?", 1)[0]
    return None if not path or path.startswith(":memory:") else Path(path)


def display_uri(uri: str) -> str:
    """The URI as messages show it: no credentials, no query string."""
    parts = urlsplit(uri)
    if "@" not in parts.netloc:
        return uri.split("?", 1)[0]
    netloc = "***@" + parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def scrub(text: str) -> str:
    """Credentials in URLs inside a message (MLflow puts the request URL in its errors)."""
    return _USERINFO.sub("://***@", text)
