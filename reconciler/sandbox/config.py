"""How the sandbox behaves: state-machine delays, paging and injected faults.

Everything time-based is a delay in seconds measured from a stored timestamp, so states are
computed on read and no background thread is needed. Tests use millisecond delays; the
in-process ``sandbox`` target uses a few hundred milliseconds so progress is visible.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

ENV_PREFIX = "RECONCILER_SANDBOX_"

SANDBOX_USER = "sandbox-user@example.com"
"""The identity every request acts as (any bearer token is accepted)."""


@dataclass
class Delays:
    """Seconds each asynchronous transition takes."""

    config_update: float = 0.3
    """Serving endpoint: IN_PROGRESS -> NOT_UPDATING / UPDATE_FAILED."""
    endpoint_ready: float = 0.2
    """Serving endpoint: NOT_READY -> READY after its first config is applied."""
    vs_endpoint: float = 0.3
    """Vector search endpoint: PROVISIONING -> ONLINE."""
    index_ready: float = 0.3
    """Vector index: ready false -> true (after its endpoint is ONLINE)."""
    index_deletion: float = 1.0
    """Vector index: how long a deleted name stays "pending deletion" (GET already 404s, a
    create of the same name answers 400 INVALID_PARAMETER_VALUE), as in a real workspace."""

    @classmethod
    def fast(cls) -> Delays:
        """Millisecond delays for tests."""
        return cls(
            config_update=0.02,
            endpoint_ready=0.01,
            vs_endpoint=0.02,
            index_ready=0.02,
            index_deletion=0.05,
        )


DROP = "drop"
"""A fail rule's "status" that closes the connection before the request is served (nothing
happens; the client sees the connection dropped)."""
LOST = "lost"
"""A fail rule's "status" that serves the request, then closes the connection without an
answer (it happened; the client cannot know)."""


@dataclass
class FailRule:
    """A named operation that fails: ``status`` for the next ``times`` calls (None: always).
    ``status`` is an HTTP status, or ``drop`` / ``lost`` for a connection closed without an
    answer before / after the request was served."""

    status: int | str = 500
    times: int | None = None


@dataclass
class Faults:
    """Injected trouble, deterministic for a given seed and call order."""

    latency_ms: float = 0.0
    """Added to every API call (outside the store lock, so parallel calls overlap)."""
    fault_rate: float = 0.0
    """Fraction of API calls answered with ``fault_status`` instead of being served."""
    fault_status: int = 429
    """429 (REQUEST_LIMIT_EXCEEDED with Retry-After) or 500 (INTERNAL_ERROR)."""
    fault_operations: list[str] = field(default_factory=list)
    """Glob patterns over operation names that ``fault_rate`` applies to (empty: all), e.g.
    ``["serving_endpoints.*", "*.create*"]``."""
    retry_after: int = 1
    """Integer seconds sent in Retry-After with injected 429s."""
    fail_operations: dict[str, FailRule] = field(default_factory=dict)
    """Operation name (the SDK method, e.g. ``serving_endpoints.update_config``) -> rule."""
    slow_readiness: float = 0.0
    """Extra seconds added to every readiness delay."""
    slow_deletion: float = 0.0
    """Extra seconds a deleted index name stays "pending deletion"."""
    rate_limit: float | None = None
    """API requests admitted per second by this server (a workspace's API limit); the rest
    are answered 429 REQUEST_LIMIT_EXCEEDED with Retry-After. None: unlimited."""
    seed: int | None = None

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)

    def updated(self, doc: Mapping[str, Any]) -> Faults:
        """A copy with the given fields changed (the control route's body).

        Raises ValueError naming the first bad setting: unknown, of the wrong type or out of
        range. Nothing changes then.
        """
        known = {f.name for f in fields(self)}
        unknown = sorted(set(doc) - known)
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(unknown)}")
        changes = {name: check_fault(name, value) for name, value in doc.items()}
        return replace(self, **changes)

    def checked(self) -> Faults:
        """This config, or ValueError naming a bad setting (e.g. from the environment)."""
        for f in fields(self):
            check_fault(f.name, getattr(self, f.name))
        return self


def _number(name: str, value: Any, *, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise ValueError(f"{name} must be {bounds}, got {value!r}")
    return value


def _integer(name: str, value: Any, *, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    _number(name, value, low=low, high=high)
    return value


def check_fault(name: str, value: Any) -> Any:
    """``value`` when it is a valid setting ``name``, else ValueError saying why."""
    if name == "latency_ms":
        return _number(name, value, low=0, high=60_000)
    if name in ("slow_readiness", "slow_deletion"):
        return _number(name, value, low=0, high=86_400)
    if name == "fault_rate":
        return _number(name, value, low=0, high=1)
    if name == "rate_limit":
        if value is None:
            return None
        if _number(name, value, low=0, high=1_000_000) == 0:
            raise ValueError("rate_limit must be above 0 (or null for no limit)")
        return value
    if name == "fault_status":
        return _integer(name, value, low=400, high=599)
    if name == "retry_after":
        return _integer(name, value, low=0, high=3600)
    if name == "seed":
        return None if value is None else _integer(name, value, low=-(2**63), high=2**63)
    if name == "fault_operations":
        if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
            raise ValueError("fault_operations must be a list of operation globs")
        return value
    if name == "fail_operations":
        return parse_fail_operations(value)
    raise ValueError(f"unknown fault setting: {name}")


@dataclass
class SandboxConfig:
    delays: Delays = field(default_factory=Delays)
    faults: Faults = field(default_factory=Faults)
    vs_page_size: int = 100
    """Vector search list calls take no page size; the server picks this one."""
    empty_pages: bool = False
    """Answer an empty page with a next_page_token before every real page of a paged list."""
    workspace_budget_policy_id: str | None = None
    """The workspace's default budget policy: serving and Vector Search endpoints created
    without one report it as their ``effective_budget_policy_id``."""
    workspace_telemetry_profile_id: str | None = None
    """A workspace-wide telemetry profile: endpoints created without ``telemetry_config``
    report one naming it (a remote-only telemetry config the client never set)."""
    caller_is_admin: bool = True
    """The caller is a workspace admin and keeps CAN_MANAGE whatever an object's ACL says.
    False: writes to a serving endpoint whose ACL no longer grants the caller CAN_MANAGE are
    403 PERMISSION_DENIED, as for a deploying service principal that lowered its own access."""
    max_body_bytes: int = 10 * 1024 * 1024
    """Larger request bodies are answered 413 without being read."""
    read_timeout: float = 30.0
    """Seconds a client may take to send a request (or stay idle between requests) before
    the connection is answered and closed."""
    log_requests: bool = False

    @classmethod
    def fast(cls) -> SandboxConfig:
        return cls(delays=Delays.fast())

    def with_env(self, env: Mapping[str, str] | None = None) -> SandboxConfig:
        """Apply ``RECONCILER_SANDBOX_*`` variables on top of this config.

        A bad value is a ValueError naming the variable.
        """
        env = os.environ if env is None else env
        cfg = replace(self, delays=replace(self.delays), faults=replace(self.faults))
        faults = cfg.faults

        def get(name: str) -> str | None:
            return env.get(ENV_PREFIX + name)

        def setting(attr: str, name: str, parse: Callable[[str], Any]) -> None:
            """``faults.attr`` from variable ``name``, checked: errors name the variable."""
            if (raw := get(name)) is None:
                return
            try:
                setattr(faults, attr, check_fault(attr, parse(raw)))
            except ValueError as error:
                raise ValueError(f"{ENV_PREFIX}{name}={raw!r}: {error}") from None

        def number(raw: str) -> int | float:
            text = raw.strip()
            try:
                return int(text)
            except ValueError:
                try:
                    return float(text)
                except ValueError:
                    raise ValueError("expected a number") from None

        def optional(raw: str) -> int | float | None:
            return None if raw.strip().lower() in ("", "none") else number(raw)

        numbers = ("latency_ms", "fault_rate", "fault_status", "retry_after", "seed")
        for attr in (*numbers, "slow_readiness", "slow_deletion"):
            setting(attr, attr.upper(), number)
        setting("rate_limit", "RATE_LIMIT", optional)
        setting("fault_operations", "FAULT_OPERATIONS", _globs)
        setting("fail_operations", "FAIL_OPERATIONS", str)
        for f in fields(Delays):
            name = f"DELAY_{f.name.upper()}"
            if (raw := get(name)) is not None:
                try:
                    setattr(cfg.delays, f.name, _number(f.name, number(raw), low=0))
                except ValueError as error:
                    raise ValueError(f"{ENV_PREFIX}{name}={raw!r}: {error}") from None
        if (v := get("EMPTY_PAGES")) is not None:
            cfg.empty_pages = v.lower() in ("1", "true", "yes")
        if (v := get("WORKSPACE_BUDGET_POLICY")) is not None:
            cfg.workspace_budget_policy_id = v or None
        if (v := get("WORKSPACE_TELEMETRY_PROFILE")) is not None:
            cfg.workspace_telemetry_profile_id = v or None
        if (v := get("NOT_ADMIN")) is not None:
            cfg.caller_is_admin = v.strip().lower() not in ("1", "true", "yes")
        return cfg


def _globs(value: str) -> list[str]:
    return [p.strip() for p in value.split(",") if p.strip()]


def _fail_rule(name: str, status: Any, times: Any) -> FailRule:
    where = f"fail_operations[{name!r}]"
    if status not in (DROP, LOST):
        _integer(f"{where}.status", status, low=400, high=599)
    if times is not None:
        _integer(f"{where}.times", times, low=0)
    return FailRule(status, times)


def parse_fail_operations(value: object) -> dict[str, FailRule]:
    """Accept ``"op1,op2=503,op3=500x2"``, ``{"op": 500}``, ``{"op": "500x2"}`` or
    ``{"op": {"status", "times"}}``.

    Anything else, or a status outside 400-599, is a ValueError saying what is wrong.
    """
    if isinstance(value, str):
        rules: dict[str, FailRule] = {}
        for item in filter(None, (p.strip() for p in value.split(","))):
            name, _, spec = item.partition("=")
            status, _, times = spec.partition("x")
            try:
                count = int(times) if times else None
                code: int | str = status if status in (DROP, LOST) else int(status or 500)
            except ValueError:
                raise ValueError(
                    f"fail_operations: {item!r} is not OP, OP=STATUS or OP=STATUSxTIMES"
                    " (STATUS: an HTTP status, drop or lost)"
                ) from None
            rules[name] = _fail_rule(name, code, count)
        return rules
    if isinstance(value, Mapping):
        out: dict[str, FailRule] = {}
        for name, rule in value.items():
            if isinstance(rule, FailRule):
                out[str(name)] = _fail_rule(str(name), rule.status, rule.times)
            elif (isinstance(rule, int) and not isinstance(rule, bool)) or rule in (DROP, LOST):
                out[str(name)] = _fail_rule(str(name), rule, None)
            elif isinstance(rule, str):  # the flag's own form: "503", "500x2", "dropx1"
                out.update(parse_fail_operations(f"{name}={rule}"))
            elif isinstance(rule, Mapping):
                unknown = sorted(set(rule) - {"status", "times"})
                if unknown:
                    raise ValueError(f"fail_operations[{name!r}]: unknown keys {unknown}")
                out[str(name)] = _fail_rule(str(name), rule.get("status", 500), rule.get("times"))
            else:
                raise ValueError(f"fail_operations[{name!r}]: expected a status or an object")
        return out
    raise ValueError("fail_operations: expected a string or an object")
