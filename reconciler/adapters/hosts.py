"""Which hosts may receive credentials: the ``RECONCILER_ALLOWED_HOSTS`` allowlist.

CI sets the allowlist from a repository variable, out of a pull request's reach; a ``host:``
edited in ``reconciler.yaml`` (or a profile, or ``DATABRICKS_HOST``) then cannot send the
workflow's credentials anywhere else. The host is resolved exactly as the SDK resolves it, but
without any request: the SDK's own constructor already probes the host (host metadata) and may
exchange an OIDC token, so the check has to come first. Hosts compare as origins: scheme,
lower-case hostname and port, with default ports and trailing slashes folded away.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from databricks.sdk.config import Config
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from reconciler.model.errors import WorkspaceError

ALLOWED_HOSTS_ENV = "RECONCILER_ALLOWED_HOSTS"
_DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True)
class Origin:
    """Where credentials go: what a browser would call the origin of a URL."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        port = "" if _DEFAULT_PORTS[self.scheme] == self.port else f":{self.port}"
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 literal
        return f"{self.scheme}://{host}{port}"


def parse_origin(url: str, *, strict: bool = False) -> Origin:
    """The origin of a workspace URL; a missing scheme means https, as in the SDK.

    ``strict`` (allowlist entries) also refuses paths, queries, credentials and wildcards,
    which would suggest a finer match than the origin this compares.
    """
    text = url.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"scheme {parts.scheme!r} is not http or https")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValueError("no hostname")
    if strict:
        if "*" in host:
            raise ValueError("wildcards are not supported: list each workspace URL")
        if parts.username is not None or parts.password is not None:
            raise ValueError("credentials do not belong in an allowed host")
        if parts.path.strip("/") or parts.query or parts.fragment:
            raise ValueError("give the workspace URL only (scheme, host and port), no path")
    return Origin(scheme, host, port if port is not None else _DEFAULT_PORTS[scheme])


def connection_origin(url: str) -> Origin:
    """Where a request under the host ``url`` really goes. The SDK appends the API path to the
    host and requests hands the whole URL to urllib3's parser, which reads some URLs unlike
    ``urllib.parse`` (``parse_origin``): a backslash ends the authority there, so
    ``http://a.example\\@b.example`` connects to ``a.example`` while ``urlsplit`` names
    ``b.example``. The allowlist is checked against both readings."""
    text = url.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = parse_url(text.rstrip("/") + "/api/2.0/")
        port = parts.port
    except (LocationParseError, ValueError) as exc:
        raise ValueError(str(exc)) from None
    scheme = (parts.scheme or "").lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"scheme {parts.scheme!r} is not http or https")
    host = (parts.host or "").strip("[]").rstrip(".").lower()
    if not host:
        raise ValueError("no hostname")
    return Origin(scheme, host, port if port is not None else _DEFAULT_PORTS[scheme])


def allowed_origins(env: Mapping[str, str] | None = None) -> list[Origin] | None:
    """The allowlist, or None when ``RECONCILER_ALLOWED_HOSTS`` is not set at all.

    Set but empty (``vars.X`` of a variable nobody defined) or malformed is an error, never
    "allow everything".
    """
    raw = (os.environ if env is None else env).get(ALLOWED_HOSTS_ENV)
    if raw is None:
        return None
    entries = [item.strip() for item in raw.split(",") if item.strip()]
    if not entries:
        raise WorkspaceError(
            f"{ALLOWED_HOSTS_ENV} is set but lists no host",
            hint="set it to the comma-separated workspace URLs credentials may be sent to"
            " (in CI: the repository variable of the same name), or unset it",
        )
    origins = []
    for entry in entries:
        try:
            origins.append(parse_origin(entry, strict=True))
        except ValueError as exc:
            raise WorkspaceError(
                f"{ALLOWED_HOSTS_ENV}: {entry!r} is not a workspace URL: {exc}",
                hint="list workspace URLs separated by commas,"
                " e.g. https://adb-123.4.azuredatabricks.net,https://dbc-a1b2.cloud.databricks.com",
            ) from None
    return origins


def check_allowed(url: str | None, *, where: str, env: Mapping[str, str] | None = None) -> None:
    """Refuse ``url`` (the host credentials would go to) unless the allowlist has it."""
    allowed = allowed_origins(env)
    if allowed is None:
        return
    listed = ", ".join(str(o) for o in allowed)
    if not url:
        raise WorkspaceError(
            f"{where}: no workspace host is configured, and {ALLOWED_HOSTS_ENV} ({listed})"
            " only allows known hosts",
            hint="give the target a host: (or set DATABRICKS_HOST) that the allowlist names",
        )
    try:
        # Where requests connects first: name that host when the two readings differ.
        readings = (connection_origin(url), parse_origin(url))
    except ValueError as exc:
        raise WorkspaceError(f"{where}: the host is not a valid URL: {exc}") from None
    for origin in readings:
        if origin in allowed:
            continue
        raise WorkspaceError(
            f"{where}: host {origin} is not in {ALLOWED_HOSTS_ENV} ({listed}); no request"
            " was sent to it",
            hint=f"if {origin} is really one of your workspaces, add it to {ALLOWED_HOSTS_ENV};"
            " in CI the allowlist is a repository variable, which a pull request cannot change",
        )


class _ResolveOnly(Config):
    """The SDK's configuration chain (arguments, environment, profile file) and nothing more:
    no host-metadata probe, no credential strategy, so no request and no token exchange."""

    @classmethod
    def attributes(cls) -> Any:
        return Config.attributes()  # declared on Config; a subclass would find none

    def _resolve_host_metadata(self) -> None:
        return None

    def _validate(self) -> None:
        return None

    def init_auth(self) -> None:
        return None


def resolved_host(kwargs: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The host and discovery URL the SDK would use for ``Config(**kwargs)``, with no request."""
    config = _ResolveOnly(**dict(kwargs))
    return config.host, config.discovery_url


def check_databricks_config(kwargs: Mapping[str, Any], *, where: str) -> None:
    """Refuse a Databricks client for ``kwargs`` whose host (or OIDC discovery URL, where the
    token exchange would go) is outside the allowlist; a no-op without one."""
    if allowed_origins() is None:
        return
    try:
        host, discovery_url = resolved_host(kwargs)
    except ValueError as exc:  # e.g. a profile missing from the config file
        raise WorkspaceError(
            f"cannot configure a Databricks client for {where}: {str(exc).splitlines()[0]}"
        ) from None
    check_allowed(host, where=where)
    if discovery_url:
        check_allowed(discovery_url, where=f"{where} (OIDC discovery URL)")


def check_mlflow_registry(tracking_uri: str | None, *, where: str) -> None:
    """The same rule for an ``mlflow`` target: an http(s) registry's host, or for
    ``databricks[-uc][://PROFILE]`` the workspace host that profile (or the environment)
    resolves to. Local stores (sqlite, files) send nothing anywhere and pass."""
    if not tracking_uri or allowed_origins() is None:
        return
    # Read as MLflow reads it (urllib.parse): leading whitespace and control characters, and
    # every tab or newline, are dropped, so " http://h" and "data\tbricks://P" are remote.
    parts = urlsplit(tracking_uri)
    scheme = parts.scheme.lower()
    if scheme in _DEFAULT_PORTS:
        check_allowed(parts.geturl(), where=where)
    elif scheme in ("databricks", "databricks-uc"):
        profile = parts.netloc.split(":", 1)[0]
        check_databricks_config({"profile": profile} if profile else {}, where=where)
