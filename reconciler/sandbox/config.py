"""How the sandbox behaves: state-machine delays, paging and injected faults.

Everything time-based is a delay in seconds measured from a stored timestamp, so states are
computed on read and no background thread is needed. Tests use millisecond delays; the
in-process ``sandbox`` target uses a few hundred milliseconds so progress is visible.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
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
    index_deletion: float = 0.3
    """Vector index: how long a deleted name stays "pending deletion"."""

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


@dataclass
class FailRule:
    """A named operation that fails: ``status`` for the next ``times`` calls (None: always)."""

    status: int = 500
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
    seed: int | None = None

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)

    def updated(self, doc: Mapping[str, Any]) -> Faults:
        """A copy with the given fields changed (the control route's body)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(doc) - known)
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(unknown)}")
        changes = dict(doc)
        if "fail_operations" in changes:
            changes["fail_operations"] = parse_fail_operations(changes["fail_operations"])
        return replace(self, **changes)


@dataclass
class SandboxConfig:
    delays: Delays = field(default_factory=Delays)
    faults: Faults = field(default_factory=Faults)
    vs_page_size: int = 100
    """Vector search list calls take no page size; the server picks this one."""
    empty_pages: bool = False
    """Answer an empty page with a next_page_token before every real page of a paged list."""
    log_requests: bool = False

    @classmethod
    def fast(cls) -> SandboxConfig:
        return cls(delays=Delays.fast())

    def with_env(self, env: Mapping[str, str] | None = None) -> SandboxConfig:
        """Apply ``RECONCILER_SANDBOX_*`` variables on top of this config."""
        env = os.environ if env is None else env
        cfg = replace(self, delays=replace(self.delays), faults=replace(self.faults))

        def get(name: str) -> str | None:
            return env.get(ENV_PREFIX + name)

        if (v := get("LATENCY_MS")) is not None:
            cfg.faults.latency_ms = float(v)
        if (v := get("FAULT_RATE")) is not None:
            cfg.faults.fault_rate = float(v)
        if (v := get("FAULT_STATUS")) is not None:
            cfg.faults.fault_status = int(v)
        if (v := get("FAULT_OPERATIONS")) is not None:
            cfg.faults.fault_operations = [p.strip() for p in v.split(",") if p.strip()]
        if (v := get("RETRY_AFTER")) is not None:
            cfg.faults.retry_after = int(v)
        if (v := get("SEED")) is not None:
            cfg.faults.seed = int(v)
        if (v := get("FAIL_OPERATIONS")) is not None:
            cfg.faults.fail_operations = parse_fail_operations(v)
        if (v := get("SLOW_READINESS")) is not None:
            cfg.faults.slow_readiness = float(v)
        for f in fields(Delays):
            if (v := get(f"DELAY_{f.name.upper()}")) is not None:
                setattr(cfg.delays, f.name, float(v))
        if (v := get("EMPTY_PAGES")) is not None:
            cfg.empty_pages = v.lower() in ("1", "true", "yes")
        return cfg


def parse_fail_operations(value: object) -> dict[str, FailRule]:
    """Accept ``"op1,op2=503,op3=500x2"`` or ``{"op": 500}`` or ``{"op": {"status", "times"}}``."""
    if isinstance(value, str):
        rules: dict[str, FailRule] = {}
        for item in filter(None, (p.strip() for p in value.split(","))):
            name, _, spec = item.partition("=")
            status, _, times = spec.partition("x")
            rules[name] = FailRule(int(status or 500), int(times) if times else None)
        return rules
    if isinstance(value, Mapping):
        out: dict[str, FailRule] = {}
        for name, rule in value.items():
            if isinstance(rule, FailRule):
                out[str(name)] = rule
            elif isinstance(rule, int):
                out[str(name)] = FailRule(rule)
            elif isinstance(rule, Mapping):
                out[str(name)] = FailRule(int(rule.get("status", 500)), rule.get("times"))
            else:
                raise ValueError(f"fail_operations[{name!r}]: expected a status or an object")
        return out
    raise ValueError("fail_operations: expected a string or an object")
