"""A serving endpoint's config on the wire, both ways: served entities and the traffic split, as
``PUT .../config`` takes them, and what a write carries over from the live config.

``PUT .../config`` replaces the whole served entity list, so every field of a live entity the
manifest does not set (a field the manifests cannot express, or one they can but this manifest
leaves unset) is sent back as it is live, matched by entity name. Of fields the API takes one
group at a time (a workload size or min/max concurrency; a UC model or an external model), the
manifest's group wins, and with none in the manifest the first group live has. Fields the API
never returns (``burst_scaling_enabled``) cannot be carried: only a manifest can keep them. An
external model keeps the API's own nested names, minus the ``*_plaintext`` credentials the
service never returns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from databricks.sdk.service.serving import ServedEntityInput

from reconciler.adapters.databricks.serving_state import ENDED_BADLY
from reconciler.kinds.diffing import as_int
from reconciler.kinds.served_entity import SIZING_FORMS

Doc = dict[str, Any]

ENTITY_FIELDS = (
    "workload_size",
    "workload_type",
    "min_provisioned_concurrency",
    "max_provisioned_concurrency",
    "min_provisioned_throughput",
    "max_provisioned_throughput",
    "provisioned_model_units",
    "burst_scaling_enabled",
    "instance_profile_arn",
    "environment_vars",
)
"""Served-entity fields spelled and valued the same on the wire and in manifests (both ways)."""
ENTITY_INPUT = frozenset(f.name for f in dataclasses.fields(ServedEntityInput))
"""Every field a served entity takes on write (the SDK's ``ServedEntityInput``): what a live
entity can carry into the next write; the rest of what GET shows is output only."""
MODELLED = frozenset(
    {
        "name",
        "entity_name",
        "entity_version",
        "scale_to_zero_enabled",
        "external_model",
        *ENTITY_FIELDS,
    }
)
"""Wire fields the manifests express (``normalize_entity`` reads them)."""
EXCLUSIVE: tuple[tuple[tuple[str, ...], ...], ...] = (
    SIZING_FORMS,
    (("entity_name", "entity_version"), ("external_model",)),
)
"""Groups of wire fields a served entity takes one of at a time."""


# --- API -> manifest ----------------------------------------------------------------------


def default_entity_name(entity_name: str, version: Any, external: Mapping[str, Any] | None) -> str:
    """The name the server gives an unnamed served entity: ``<model>-<version>`` (the last part
    of a three-level name), or the external model's name with ``.`` and ``:`` made ``-``."""
    if external and external.get("name"):
        return str(external["name"]).replace(".", "-").replace(":", "-")
    return f"{entity_name.split('.')[-1]}-{version}"


def entity_name(raw: Mapping[str, Any]) -> str:
    entity = raw.get("entity_name") or raw.get("model_name") or ""
    version = as_int(raw.get("entity_version") or raw.get("model_version"))
    return str(raw.get("name") or default_entity_name(entity, version, raw.get("external_model")))


def normalize_external(raw: Mapping[str, Any]) -> Doc:
    """An ``ExternalModel`` in the manifest's terms: the API's own names, nothing empty, no
    ``*_plaintext`` field (the service never returns them; a reference is kept as written)."""
    out: Doc = {}
    for key, value in raw.items():
        if value is None or str(key).endswith("_plaintext"):
            continue
        out[key] = normalize_external(value) if isinstance(value, Mapping) else value
    return out


def normalize_entity(raw: Mapping[str, Any]) -> Doc:
    """A ``ServedEntityOutput`` (or legacy ``ServedModelOutput``) in the manifest's terms."""
    if raw.get("external_model"):
        return {
            "name": entity_name(raw),
            "external_model": normalize_external(raw["external_model"]),
        }
    out: Doc = {
        "name": entity_name(raw),
        "entity": raw.get("entity_name") or raw.get("model_name") or "",
        "version": as_int(raw.get("entity_version") or raw.get("model_version")),
    }
    for key in ENTITY_FIELDS:
        if raw.get(key) is not None:
            out[key] = raw[key]
    if raw.get("scale_to_zero_enabled") is not None:
        out["scale_to_zero"] = bool(raw["scale_to_zero_enabled"])
    return out


def compared_config(raw: Mapping[str, Any]) -> Doc:
    """The config plans compare and writes carry from: during an update, the config being moved
    to; after a failed or cancelled one, the active config (``pending_config`` then shows what
    failed, which does not serve)."""
    update = str((raw.get("state") or {}).get("config_update") or "")
    pending = raw.get("pending_config") or {}
    if update in ENDED_BADLY:
        pending = {}
    config = pending if pending.get("served_entities") else (raw.get("config") or {})
    return dict(config)


def live_entities(raw: Mapping[str, Any] | None) -> dict[str, Doc]:
    """The raw served entities of a live endpoint (``ServingEndpointDetailed``), by name."""
    config = compared_config(raw or {})
    found = config.get("served_entities") or config.get("served_models") or []
    return {entity_name(e): dict(e) for e in found}


def normalize_traffic(routes: Any, entities: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Routes name their target by ``served_entity_name`` or the legacy ``served_model_name``
    (the server echoes both); zero routes are dropped; no routes and one entity means 100%."""
    out: dict[str, int] = {}
    for route in routes or []:
        target = route.get("served_entity_name") or route.get("served_model_name")
        pct = int(route.get("traffic_percentage") or 0)
        if target and pct:
            out[str(target)] = pct
    if not out and len(entities) == 1:
        out[str(entities[0]["name"])] = 100
    return dict(sorted(out.items()))


def unmodelled_entity_fields(raw: Mapping[str, Any]) -> list[str]:
    """``served_entities.<name>.<field>`` of every writable live entity field the manifests
    cannot express."""
    out = []
    for name, entity in sorted(live_entities(raw).items()):
        for key in sorted(ENTITY_INPUT - MODELLED):
            if entity.get(key) not in (None, {}, []):
                out.append(f"served_entities.{name}.{key}")
    return out


# --- manifest -> API ----------------------------------------------------------------------


def served_entity(entity: Mapping[str, Any], live: Mapping[str, Any] | None = None) -> Doc:
    """A manifest served entity (alias already resolved to ``version``) as ServedEntityInput,
    over the fields of the live entity of the same name it does not set."""
    if entity.get("external_model") is not None:
        # The provider serves it: no sizing, no scale to zero (the API refuses them).
        external: Doc = {"name": entity["name"], "external_model": dict(entity["external_model"])}
        return {**carried_fields(external, live or {}), **external}
    out: Doc = {
        "name": entity["name"],
        "entity_name": entity["entity"],
        "entity_version": str(entity["version"]),
    }
    if entity.get("scale_to_zero") is not None:
        out["scale_to_zero_enabled"] = bool(entity["scale_to_zero"])
    for key in ENTITY_FIELDS:
        if entity.get(key) is not None:
            out[key] = entity[key]
    out = {**carried_fields(out, live or {}), **out}
    out.setdefault("scale_to_zero_enabled", False)  # every write must say (no default)
    return out


def carried_fields(written: Mapping[str, Any], live: Mapping[str, Any]) -> Doc:
    """The live entity's writable fields ``written`` does not set, less those of a group the
    API takes one of at a time that ``written`` (or, failing that, live's first) does not use."""
    kept = {
        k: v for k, v in live.items() if k in ENTITY_INPUT and k not in written and v is not None
    }
    for groups in EXCLUSIVE:
        chosen = [g for g in groups if any(k in written for k in g)]
        chosen = chosen or [g for g in groups if any(k in kept for k in g)]
        for group in groups:
            if chosen and group != chosen[0]:
                for key in group:
                    kept.pop(key, None)
    return kept


def core_config(doc: Mapping[str, Any], live: Mapping[str, Any] | None = None) -> Doc:
    """Served entities and traffic routes, as ``PUT .../config`` takes them; ``live`` is the
    endpoint as GET shows it, whose entities' unset fields are carried (None: a new endpoint)."""
    entities = list(doc["served_entities"])
    carried = live_entities(live)
    traffic = doc.get("traffic") or {entities[0]["name"]: 100}
    routes = [
        {"served_entity_name": e["name"], "traffic_percentage": int(traffic.get(e["name"], 0))}
        for e in entities
    ]
    return {
        "served_entities": [served_entity(e, carried.get(str(e["name"]))) for e in entities],
        "traffic_config": {"routes": routes},
    }
