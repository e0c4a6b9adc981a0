"""A serving endpoint's state machine and how GET and list show it.

A config change is stored as a pending config with a due time; every read first *settles* the
endpoint: once due, the pending config becomes active (NOT_UPDATING) if every served model
version exists and is READY, else the update fails (UPDATE_FAILED) and the old config stays.

What GET shows is what the service shows, including what it leaves out: the requested
``budget_policy_id`` is never returned (``effective_budget_policy_id`` is), nor are
``burst_scaling_enabled`` or ``*_plaintext`` credentials (dropped on write, in
``serving_config``).
"""

from __future__ import annotations

from reconciler.sandbox.api import Request, not_found, public
from reconciler.sandbox.config import SandboxConfig
from reconciler.sandbox.store import Doc, Tx
from reconciler.sandbox.unity_catalog import version_status

COLLECTION = "serving_endpoints"
IDS = "serving_endpoint_ids"

_SUMMARY_KEYS = (
    "ai_gateway",
    "creation_timestamp",
    "creator",
    "description",
    "id",
    "last_updated_timestamp",
    "name",
    "tags",
    "task",
    "telemetry_config",
    "usage_policy_id",
)
_SPEC_KEYS = ("entity_name", "entity_version", "external_model", "foundation_model", "name")


def load(req: Request, name: str) -> Doc:
    """The settled endpoint, or 404 as the service words it."""
    doc = req.tx.get(COLLECTION, name)
    if doc is None:
        raise not_found(f"Endpoint with name '{name}' does not exist.")
    if settle(req.tx, doc, req.now, req.config):
        req.tx.put(COLLECTION, name, doc)
    return doc


def settle(tx: Tx, doc: Doc, now: float, config: SandboxConfig) -> bool:
    """Finish a due config update. True when ``doc`` changed and must be saved."""
    pending = doc.get("_pending")
    if not pending or now < pending["due"]:
        return False
    problems = _problems(tx, pending["config"])
    doc.pop("_pending")
    if problems:
        doc["_update"] = "UPDATE_FAILED"
        doc["_update_message"] = " ".join(problems.values())
        doc["_failed"] = dict(pending, problems=problems)
        return True
    doc["config"] = dict(pending["config"], config_version=pending["config_version"])
    doc["_update"] = "NOT_UPDATING"
    doc.pop("_update_message", None)
    doc.pop("_failed", None)
    if doc.get("_ready_at") is None:
        readiness = config.delays.endpoint_ready + config.faults.slow_readiness
        doc["_ready_at"] = pending["due"] + readiness
    return True


def _problems(tx: Tx, config: Doc) -> dict[str, str]:
    """Why each served entity of ``config`` cannot deploy, by entity name."""
    out = {}
    for key, name_key, version_key in (
        ("served_entities", "entity_name", "entity_version"),
        ("served_models", "model_name", "model_version"),
    ):
        for entity in config.get(key, []):
            model, version = entity.get(name_key), entity.get(version_key)
            if not model or entity.get("foundation_model") or entity.get("external_model"):
                continue
            status = version_status(tx, model, version)
            if status is None:
                out[entity["name"]] = f"Model version {model} version {version} does not exist."
            elif status != "READY":
                out[entity["name"]] = (
                    f"Model version {model} version {version} is {status}, not READY."
                )
    return out


def _failed_config(failed: Doc) -> Doc:
    """The config a failed update tried to reach, as ``pending_config`` shows it: the entities
    that could not deploy are DEPLOYMENT_FAILED with the reason, the others were aborted."""
    problems: dict[str, str] = failed.get("problems") or {}
    out = dict(failed["config"])
    for key in ("served_entities", "served_models"):
        if key not in out:
            continue
        entities = []
        for entity in out[key]:
            message = problems.get(entity["name"])
            state = (
                {"deployment": "DEPLOYMENT_FAILED", "deployment_state_message": message}
                if message
                else {
                    "deployment": "DEPLOYMENT_ABORTED",
                    "deployment_state_message": "Aborted: another served entity failed.",
                }
            )
            entities.append(dict(entity, state=state))
        out[key] = entities
    return dict(out, config_version=failed["config_version"], start_time=failed["start_time"])


def _ready(doc: Doc, now: float) -> bool:
    ready_at = doc.get("_ready_at")
    return ready_at is not None and now >= ready_at


def _with_states(config: Doc, deployment: str, message: str) -> Doc:
    out = dict(config)
    for key in ("served_entities", "served_models"):
        if key in out:
            out[key] = [
                dict(e, state={"deployment": deployment, "deployment_state_message": message})
                for e in out[key]
            ]
    return out


def detailed(doc: Doc, now: float, permission_level: str | None = "CAN_MANAGE") -> Doc:
    """ServingEndpointDetailed as GET answers it; ``permission_level`` is the caller's."""
    out = public(doc)
    out.pop("budget_policy_id", None)  # never returned (state written by older sandboxes)
    out.setdefault("route_optimized", False)
    ready = _ready(doc, now)
    out["state"] = {"ready": "READY" if ready else "NOT_READY", "config_update": doc["_update"]}
    if "config" in doc:
        deployment = "DEPLOYMENT_READY" if ready else "DEPLOYMENT_CREATING"
        out["config"] = _with_states(doc["config"], deployment, "")
    pending = doc.get("_pending")
    if pending:
        cfg = _with_states(pending["config"], "DEPLOYMENT_CREATING", "Creating the container.")
        out["pending_config"] = dict(
            cfg, config_version=pending["config_version"], start_time=pending["start_time"]
        )
    elif doc["_update"] == "UPDATE_FAILED" and doc.get("_failed"):
        # The failed config stays visible until the next update, carrying the reason.
        out["pending_config"] = _failed_config(doc["_failed"])
    if permission_level is not None:
        out["permission_level"] = permission_level
    return out


def summary(doc: Doc, now: float) -> Doc:
    """The list item: no traffic, no workload or scaling fields."""
    full = detailed(doc, now)
    out = {k: full[k] for k in _SUMMARY_KEYS if k in full}
    out["state"] = full["state"]
    if "config" in full:
        cfg: Doc = {
            "served_entities": [
                {k: e[k] for k in _SPEC_KEYS if k in e} for e in full["config"]["served_entities"]
            ]
        }
        if "served_models" in full["config"]:
            cfg["served_models"] = [
                {k: m[k] for k in ("model_name", "model_version", "name") if k in m}
                for m in full["config"]["served_models"]
            ]
        out["config"] = cfg
    return out
