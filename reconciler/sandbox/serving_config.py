"""Validation and server-side defaults of serving endpoint configs and AI Gateway objects.

What the service fills in is filled in here too (entity names, workload type, the default
100% route, ``auto_capture_config.enabled``, a telemetry profile), and what it never returns
is dropped here (``burst_scaling_enabled``, ``*_plaintext`` credentials (``external_models``),
telemetry ``table_names``), so a client that diffs against GET meets what it would in a
workspace.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from reconciler.sandbox.api import invalid
from reconciler.sandbox.external_models import external_model
from reconciler.sandbox.store import Doc

ENDPOINT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
ENTITY_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_SERVED_ENTITIES = 10
WORKLOAD_TYPES = {
    "CPU",
    "CPU_LARGE",
    "CPU_MEDIUM",
    "GPU_LARGE",
    "GPU_MEDIUM",
    "GPU_SMALL",
    "GPU_XLARGE",
    "GPU_XLARGE_8",
    "MULTIGPU_MEDIUM",
}
RATE_LIMIT_KEYS = {"endpoint", "user", "user_group", "service_principal"}
PII_BEHAVIORS = {"BLOCK", "MASK", "NONE"}
AI_GATEWAY_KEYS = {
    "fallback_config",
    "guardrails",
    "inference_table_config",
    "rate_limits",
    "usage_tracking_config",
}
_CONCURRENCY = ("min_provisioned_concurrency", "max_provisioned_concurrency")
AUTO_CAPTURE_LOCATION = ("catalog_name", "schema_name", "table_name_prefix")
_NOT_ECHOED = ("burst_scaling_enabled",)
_NOT_WITH_EXTERNAL = frozenset(
    {
        "entity_name",
        "entity_version",
        "workload_size",
        "workload_type",
        "scale_to_zero_enabled",
        *_CONCURRENCY,
        "min_provisioned_throughput",
        "max_provisioned_throughput",
        "provisioned_model_units",
        "instance_profile_arn",
        "environment_vars",
    }
)


def _obj(value: Any, what: str) -> Doc:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid(f"{what} must be an object.")
    return dict(value)


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(f"{what} must be a list.")
    return list(value)


def served_entity(raw: Any, *, legacy: bool = False) -> Doc:
    """One served entity with the service's defaults; ``legacy`` reads a ``served_models`` item."""
    entity = _obj(raw, "served entity")
    if legacy:
        if "model_name" not in entity or "model_version" not in entity:
            raise invalid("served_models require model_name and model_version.")
        entity["entity_name"] = entity.pop("model_name")
        entity["entity_version"] = entity.pop("model_version")
        if "scale_to_zero_enabled" not in entity:
            raise invalid("served_models require scale_to_zero_enabled.")
    for key in _NOT_ECHOED:
        entity.pop(key, None)
    external = entity.get("external_model")
    if external is not None:
        ext = external_model(external)
        clashing = sorted(set(entity) & _NOT_WITH_EXTERNAL)
        if clashing:
            raise invalid(
                f"external_model cannot be combined with {', '.join(clashing)}: the provider"
                " serves the model."
            )
        entity["external_model"] = ext
        entity.setdefault("name", re.sub(r"[.:]", "-", str(ext["name"])))
    else:
        name = entity.get("entity_name")
        if not isinstance(name, str) or not name:
            raise invalid("A served entity needs entity_name or external_model.")
        version = entity.get("entity_version")
        if version is None or str(version) == "":
            raise invalid(f"Served entity {name}: entity_version is required.")
        entity["entity_version"] = str(version)
        entity.setdefault("name", f"{name.split('.')[-1]}-{version}")
        wtype = entity.setdefault("workload_type", "CPU")
        if wtype not in WORKLOAD_TYPES:
            raise invalid(f"Invalid workload_type {wtype!r}.")
        uses_concurrency = any(entity.get(k) is not None for k in _CONCURRENCY)
        if entity.get("workload_size") is not None and uses_concurrency:
            raise invalid("workload_size cannot be combined with min/max_provisioned_concurrency.")
        lo, hi = (entity.get(k) for k in _CONCURRENCY)
        if lo is not None and hi is not None and int(lo) > int(hi):
            raise invalid(
                "min_provisioned_concurrency must not exceed max_provisioned_concurrency."
            )
        if not isinstance(entity.get("scale_to_zero_enabled"), bool):
            # The service's own words (seen through the Terraform provider, which once
            # dropped `false`): the field has no default.
            raise invalid(
                f"Served entity {name}: scaleToZeroEnabled is undefined."
                " Please set it to either true or false."
            )
    if not ENTITY_NAME.match(str(entity["name"])):
        raise invalid(
            f"Invalid served entity name {entity['name']!r}: "
            "only alphanumerics, '-' and '_' are allowed."
        )
    return entity


def core_config(raw: Doc) -> Doc:
    """Validate a config (create's ``config`` or the PUT body) and fill the service defaults."""
    entities = [served_entity(e) for e in _list(raw.get("served_entities"), "served_entities")]
    models = [
        served_entity(m, legacy=True) for m in _list(raw.get("served_models"), "served_models")
    ]
    everything = entities + models
    if not everything:
        raise invalid("A config needs at least one served entity.")
    if len(everything) > MAX_SERVED_ENTITIES:
        raise invalid(f"A serving endpoint can have at most {MAX_SERVED_ENTITIES} served entities.")
    names = [e["name"] for e in everything]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise invalid(f"Served entity names must be unique; repeated: {', '.join(dupes)}.")
    traffic = raw.get("traffic_config")
    if traffic is None:
        if len(everything) > 1:
            raise invalid("traffic_config is required when there is more than one served entity.")
        routes = (
            [
                {
                    "served_entity_name": names[0],
                    "served_model_name": names[0],
                    "traffic_percentage": 100,
                }
            ]
            if names
            else []
        )
    else:
        routes = []
        for route in _list(_obj(traffic, "traffic_config").get("routes"), "traffic_config.routes"):
            route = _obj(route, "route")
            target = route.get("served_entity_name") or route.get("served_model_name")
            if target not in names:
                raise invalid(f"Traffic route names unknown served entity {target!r}.")
            pct = route.get("traffic_percentage")
            if not isinstance(pct, int) or isinstance(pct, bool) or not 0 <= pct <= 100:
                raise invalid("traffic_percentage must be an integer between 0 and 100.")
            routes.append(
                {
                    "served_entity_name": target,
                    "served_model_name": target,
                    "traffic_percentage": pct,
                }
            )
        if routes and sum(r["traffic_percentage"] for r in routes) != 100:
            raise invalid("Traffic percentages must add up to 100.")
    config: Doc = {"served_entities": entities}
    if models:
        config["served_models"] = [_as_served_model(m) for m in models]
    if routes:
        config["traffic_config"] = {"routes": routes}
    if raw.get("auto_capture_config") is not None:
        capture = _obj(raw["auto_capture_config"], "auto_capture_config")
        capture.setdefault("enabled", True)
        config["auto_capture_config"] = capture
    return config


def keep_auto_capture(current: Doc, new: Doc, endpoint: str) -> None:
    """An update keeps the inference table it does not mention; its location never changes
    (there is no update path: the endpoint must be re-created)."""
    old = current.get("auto_capture_config")
    if old is None:
        return
    capture = new.get("auto_capture_config")
    if capture is None:
        new["auto_capture_config"] = old
        return
    changed = [k for k in AUTO_CAPTURE_LOCATION if capture.get(k) != old.get(k)]
    if changed:
        raise invalid(
            f"Endpoint {endpoint}: the inference table's {', '.join(changed)} cannot be changed"
            " after creation. Re-create the endpoint to write to another table."
        )


def telemetry(raw: Any) -> Doc | None:
    """The telemetry config as the service keeps it. ``table_names`` is input only: it
    provisions a telemetry profile, which GET shows as ``telemetry_profile_id``."""
    if raw is None:
        return None
    config = _obj(raw, "telemetry_config")
    names = config.pop("table_names", None)
    if names is not None:
        names = _obj(names, "telemetry_config.table_names")
        if not config.get("telemetry_profile_id"):
            config["telemetry_profile_id"] = str(uuid.uuid4())
        inference = config.get("inference_table_config")
        logs = names.get("logs_table")
        if isinstance(inference, dict) and logs and not inference.get("name"):
            config["inference_table_config"] = dict(inference, name=f"{logs}_payload")
    return config


def _as_served_model(entity: Doc) -> Doc:
    out = dict(entity)
    out["model_name"] = out.pop("entity_name")
    out["model_version"] = out.pop("entity_version")
    return out


def model_refs(config: Doc) -> list[tuple[str, str]]:
    """(entity_name, version) of every served UC model in a config."""
    refs = [
        (e["entity_name"], e["entity_version"])
        for e in config.get("served_entities", [])
        if e.get("entity_name") and not e.get("foundation_model")
    ]
    refs += [(m["model_name"], m["model_version"]) for m in config.get("served_models", [])]
    return refs


def ai_gateway(raw: Any) -> Doc:
    """Validate an AI Gateway object; ``rate_limits[].key`` defaults to ``endpoint``."""
    gw = _obj(raw, "ai_gateway")
    unknown = sorted(set(gw) - AI_GATEWAY_KEYS)
    if unknown:
        raise invalid(f"Unknown AI Gateway fields: {', '.join(unknown)}.")
    limits = []
    for item in _list(gw.get("rate_limits"), "rate_limits"):
        limit = _obj(item, "rate limit")
        if limit.get("renewal_period") != "minute":
            raise invalid("rate_limits[].renewal_period must be 'minute'.")
        key = limit.setdefault("key", "endpoint")
        if key not in RATE_LIMIT_KEYS:
            raise invalid(f"Invalid rate limit key {key!r}.")
        if key in ("user_group", "service_principal") and not limit.get("principal"):
            raise invalid(f"A rate limit with key {key!r} needs a principal.")
        if limit.get("calls") is None and limit.get("tokens") is None:
            raise invalid("A rate limit needs calls or tokens.")
        for field in ("calls", "tokens"):
            value = limit.get(field)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise invalid(f"rate_limits[].{field} must be a non-negative integer.")
        limits.append(limit)
    if "rate_limits" in gw:
        gw["rate_limits"] = limits
    guardrails = _obj(gw.get("guardrails"), "guardrails")
    for side in ("input", "output"):
        params = _obj(guardrails.get(side), f"guardrails.{side}")
        behavior = _obj(params.get("pii"), "pii").get("behavior")
        if behavior is not None and behavior not in PII_BEHAVIORS:
            raise invalid(f"Invalid PII behavior {behavior!r}.")
    fallback = gw.get("fallback_config")
    if fallback is not None and "enabled" not in _obj(fallback, "fallback_config"):
        raise invalid("fallback_config.enabled is required.")
    return gw
