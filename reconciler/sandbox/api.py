"""Routing, requests and the Databricks error shape shared by every route module."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.store import Doc, Tx


class ApiError(Exception):
    """Answered as ``{"error_code", "message"}`` with ``status``, as the real service does."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.headers = headers or {}

    def body(self) -> Doc:
        return {"error_code": self.error_code, "message": self.message}


def not_found(message: str) -> ApiError:
    return ApiError(404, "RESOURCE_DOES_NOT_EXIST", message)


def already_exists(message: str) -> ApiError:
    return ApiError(409, "RESOURCE_ALREADY_EXISTS", message)


def conflict(message: str) -> ApiError:
    return ApiError(409, "RESOURCE_CONFLICT", message)


def invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER_VALUE", message)


def invalid_state(message: str) -> ApiError:
    return ApiError(400, "INVALID_STATE", message)


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    body: Doc
    tx: Tx
    config: SandboxConfig
    now: float
    """Seconds since the epoch, fixed for the whole request."""
    base_url: str

    @property
    def now_ms(self) -> int:
        return int(self.now * 1000)

    def q(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def q_bool(self, name: str) -> bool:
        return (self.q(name) or "").lower() == "true"

    def q_int(self, name: str) -> int | None:
        value = self.q(name)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except ValueError:
            raise invalid(f"Parameter {name} must be an integer, got {value!r}.") from None

    def param_int(self, name: str) -> int:
        value = self.params[name]
        try:
            return int(value)
        except ValueError:
            raise invalid(f"{name} must be an integer, got {value!r}.") from None

    def str_field(self, name: str, *, required: bool = False) -> str | None:
        value = self.body.get(name)
        if value is None:
            if required:
                raise invalid(f"Missing required field: {name}")
            return None
        if not isinstance(value, str):
            raise invalid(f"Field {name} must be a string.")
        return value


@dataclass(frozen=True)
class RawReply:
    """An answer that is not a plain JSON object: file downloads, or JSON with extra headers."""

    data: bytes
    content_type: str = "application/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Doc | RawReply | None]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    operation: str
    """Named like the SDK method (``serving_endpoints.create``): fault rules use it."""
    handler: Handler
    control: bool = False
    """Sandbox-only routes: no auth, no injected faults."""


@dataclass
class Router:
    routes: list[Route] = field(default_factory=list)

    def add(
        self, method: str, template: str, operation: str, *, control: bool = False
    ) -> Callable[[Handler], Handler]:
        """Register a handler; ``{name}`` is one path segment, ``{name:path}`` any rest."""

        def to_regex(match: re.Match[str]) -> str:
            name, _, kind = match.group(1).partition(":")
            return f"(?P<{name}>.+)" if kind == "path" else f"(?P<{name}>[^/]+)"

        pattern = re.compile("^" + re.sub(r"\{([^}]+)\}", to_regex, template) + "/?$")

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, pattern, operation, handler, control))
            return handler

        return register

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method != method:
                continue
            m = route.pattern.match(path)
            if m:
                return route, {k: unquote(v) for k, v in m.groupdict().items()}
        return None


def public(doc: Doc) -> Doc:
    """Drop the sandbox's private bookkeeping (keys starting with ``_``)."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def sorted_tags(tags: dict[str, Any], key_name: str = "key") -> list[Doc]:
    out: list[Doc] = []
    for k in sorted(tags):
        item: Doc = {key_name: k}
        if tags[k] is not None:
            item["value"] = tags[k]
        out.append(item)
    return out


def page(req: Request, items: list[Doc], *, size: int, key: str, token: str | None) -> Doc:
    """Slice ``items`` (already in a stable order) at an offset token; optionally emit an
    empty page carrying a token first, which the real services are allowed to do."""
    if req.config.empty_pages and not (token or "").startswith("e"):
        return {key: [], "next_page_token": "e" + (token or "0")}
    raw = (token or "0").lstrip("e") or "0"
    try:
        offset = int(raw)
    except ValueError:
        raise invalid(f"Invalid page_token {token!r}.") from None
    chunk = items[offset : offset + size]
    out: Doc = {key: chunk}
    if offset + size < len(items):
        out["next_page_token"] = str(offset + size)
    return out
