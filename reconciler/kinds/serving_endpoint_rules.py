"""Serving endpoints: fold what the server fills in, and diff served entities as a whole list.

``PUT .../config`` replaces the served entities and the traffic split, so both compare in full
(an entity the manifest leaves out is removed). ``description``, ``route_optimized`` and
``budget_policy_id`` cannot change after creation. Rate limits belong to the ``quota`` kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from typing import Any

from reconciler.kinds.diffing import as_int, diff_managed, diff_tags, field_diff, tags_to_dict
from reconciler.kinds.rules import DesiredContext, KindRules, register
from reconciler.kinds.serving_endpoint import ServingEndpointSpec
from reconciler.model.changes import FieldDiff
from reconciler.model.live import ExtraRead
from reconciler.model.resources import KindName, Resource, address_of

DEFAULT_WORKLOAD_TYPE = "CPU"
_UPDATE_ENDED_BADLY = ("UPDATE_FAILED", "UPDATE_CANCELED")
_CONCURRENCY = ("min_provisioned_concurrency", "max_provisioned_concurrency")
_PRINCIPALS = {
    "user_name": "user",
    "group_name": "group",
    "service_principal_name": "service_principal",
}
_GATEWAY_DEFAULTS: dict[str, Any] = {
    "ai_gateway.usage_tracking": False,
    "ai_gateway.fallbacks": False,
    "ai_gateway.guardrails": {},
    "ai_gateway.inference_tables": {},
    "ai_gateway.inference_tables.enabled": False,
    **{
        f"ai_gateway.guardrails.{side}.{k}": v
        for side in ("input", "output")
        for k, v in (("safety", False), ("pii", "NONE"), ("invalid_keywords", []))
    },
    **{f"ai_gateway.guardrails.{side}": {} for side in ("input", "output")},
    **{f"ai_gateway.guardrails.{side}.valid_topics": [] for side in ("input", "output")},
}


def default_entity_name(entity_name: str, version: Any, external: Mapping[str, Any] | None) -> str:
    """The name the server gives an unnamed served entity: ``<model>-<version>`` (the last part
    of a three-level name), or the external model's name with ``.`` and ``:`` made ``-``."""
    if external and external.get("name"):
        return str(external["name"]).replace(".", "-").replace(":", "-")
    return f"{entity_name.split('.')[-1]}-{version}"


def normalize_entity(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A ``ServedEntityOutput`` (or legacy ``ServedModelOutput``) in the manifest's terms."""
    entity = raw.get("entity_name") or raw.get("model_name") or ""
    version = as_int(raw.get("entity_version") or raw.get("model_version"))
    out: dict[str, Any] = {
        "name": raw.get("name") or default_entity_name(entity, version, raw.get("external_model")),
        "entity": entity,
        "version": version,
    }
    for key in ("workload_size", "workload_type", *_CONCURRENCY, "environment_vars"):
        if raw.get(key) is not None:
            out[key] = raw[key]
    if raw.get("scale_to_zero_enabled") is not None:
        out["scale_to_zero"] = bool(raw["scale_to_zero_enabled"])
    return out


def _canonical_entity(entity: Mapping[str, Any]) -> dict[str, Any]:
    """Server defaults dropped, so that set-to-default and unset compare equal."""
    out = {k: v for k, v in entity.items() if k != "alias" and v is not None}
    if out.get("workload_type") == DEFAULT_WORKLOAD_TYPE:
        del out["workload_type"]
    if out.get("scale_to_zero") is False:
        del out["scale_to_zero"]
    if not out.get("environment_vars"):
        out.pop("environment_vars", None)
    out["version"] = as_int(out.get("version"))
    return out


def diff_entities(
    desired: Sequence[Mapping[str, Any]], live: Sequence[Mapping[str, Any]]
) -> list[FieldDiff]:
    want = {e["name"]: _canonical_entity(e) for e in desired}
    have = {e["name"]: _canonical_entity(e) for e in live}
    diffs: list[FieldDiff] = []
    for name in sorted(set(want) | set(have)):
        path = f"served_entities.{name}"
        if name not in have:
            diffs.append(FieldDiff(path=path, before=None, after=want[name]))
            continue
        if name not in want:
            diffs.append(FieldDiff(path=path, before=have[name], after=None))
            continue
        w, h = want[name], dict(have[name])
        # The server derives one sizing form from the other; compare the form the manifest uses.
        sets_concurrency = any(k in w for k in _CONCURRENCY)
        if "workload_size" in w and not sets_concurrency:
            for k in _CONCURRENCY:
                h.pop(k, None)
        if sets_concurrency and "workload_size" not in w:
            h.pop("workload_size", None)
        for key in sorted(set(w) | set(h), key=_entity_key_order):
            if w.get(key) != h.get(key):
                diffs.append(FieldDiff(path=f"{path}.{key}", before=h.get(key), after=w.get(key)))
    return diffs


def _entity_key_order(key: str) -> tuple[int, str]:
    order = ("entity", "version", "workload_size", "workload_type", "scale_to_zero")
    return (order.index(key) if key in order else len(order), key)


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


def normalize_gateway(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """``AiGatewayConfig`` without rate limits (those are the ``quota`` kind)."""
    raw = raw or {}
    out: dict[str, Any] = {}
    if raw.get("usage_tracking_config") is not None:
        out["usage_tracking"] = bool(raw["usage_tracking_config"].get("enabled"))
    guardrails = raw.get("guardrails") or {}
    sides: dict[str, Any] = {}
    for side in ("input", "output"):
        g = guardrails.get(side)
        if not g:
            continue
        doc: dict[str, Any] = {}
        if g.get("safety") is not None:
            doc["safety"] = bool(g["safety"])
        if g.get("pii"):
            doc["pii"] = g["pii"].get("behavior", "NONE")
        for key in ("invalid_keywords", "valid_topics"):
            if g.get(key):
                doc[key] = list(g[key])
        sides[side] = doc
    if sides:
        out["guardrails"] = sides
    table = raw.get("inference_table_config")
    if table:
        doc = {"enabled": bool(table.get("enabled"))}
        for src, dst in (("catalog_name", "catalog"), ("schema_name", "schema")):
            if table.get(src):
                doc[dst] = table[src]
        if table.get("table_name_prefix"):
            doc["table_name_prefix"] = table["table_name_prefix"]
        out["inference_tables"] = doc
    if raw.get("fallback_config") is not None:
        out["fallbacks"] = bool(raw["fallback_config"].get("enabled"))
    return out


def normalize_permissions(acl: Any) -> list[dict[str, str]]:
    """Direct (not inherited) ACL entries as ``{user|group|service_principal, level}``."""
    out = []
    for entry in acl or []:
        principal = next(((v, entry[k]) for k, v in _PRINCIPALS.items() if entry.get(k)), None)
        if principal is None:
            continue
        levels = entry.get("all_permissions")
        if levels is None and entry.get("permission_level"):
            levels = [{"permission_level": entry["permission_level"], "inherited": False}]
        for level in levels or []:
            if not level.get("inherited"):
                out.append({principal[0]: principal[1], "level": level["permission_level"]})
    return canonical_permissions(out)


def canonical_permissions(perms: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    cleaned = [{k: v for k, v in p.items() if v is not None} for p in perms]
    return sorted(cleaned, key=lambda p: sorted(p.items()))


class ServingEndpointRules(KindRules):
    kind = KindName.SERVING_ENDPOINT
    immutable = ("description", "route_optimized", "budget_policy_id")

    def extra_reads(self, doc: Mapping[str, Any]) -> frozenset[ExtraRead]:
        """Permissions live behind the endpoint id: read them only when the manifest sets them."""
        return frozenset({ExtraRead.PERMISSIONS}) if "permissions" in doc else frozenset()

    def desired_doc(self, resource: Resource, ctx: DesiredContext) -> dict[str, Any]:
        spec = resource.spec
        assert isinstance(spec, ServingEndpointSpec)
        doc = spec.doc()
        entities = []
        for i, entity in enumerate(spec.served_entities):
            ed = entity.doc()
            model = entity.model_name
            if entity.alias:
                path = f"served_entities.{i}.entity"
                version = ctx.alias_version(resource, path, model, entity.alias)
                ed["alias"] = entity.alias
            else:
                assert entity.version is not None
                version = entity.version
                ctx.check_version(resource, f"served_entities.{i}.version", model, version)
            ed["entity"], ed["version"] = model, version
            entities.append(ed)
        doc["served_entities"] = entities
        if spec.traffic is None:
            doc["traffic"] = {entities[0]["name"]: 100}
        else:
            doc["traffic"] = dict(sorted((k, v) for k, v in spec.traffic.items() if v))
        if "tags" in doc:
            doc["tags"] = dict(sorted(doc["tags"].items()))
        if "permissions" in doc:
            doc["permissions"] = canonical_permissions(doc["permissions"])
        return doc

    def normalize(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        # During an update the config being moved to is compared; after a failed or cancelled
        # update, ``pending_config`` shows what failed, and the active config is what serves.
        update = str((raw.get("state") or {}).get("config_update") or "")
        pending = raw.get("pending_config") or {}
        if update in _UPDATE_ENDED_BADLY:
            pending = {}
        config = pending if pending.get("served_entities") else (raw.get("config") or {})
        raw_entities = config.get("served_entities") or config.get("served_models") or []
        entities = sorted((normalize_entity(e) for e in raw_entities), key=lambda e: e["name"])
        doc: dict[str, Any] = {"name": raw.get("name")}
        if raw.get("description"):
            doc["description"] = raw["description"]
        doc["route_optimized"] = bool(raw.get("route_optimized", False))
        budget = raw.get("budget_policy_id")
        if budget:
            doc["budget_policy_id"] = budget
        doc["served_entities"] = entities
        doc["traffic"] = normalize_traffic(
            (config.get("traffic_config") or {}).get("routes"), entities
        )
        doc["ai_gateway"] = normalize_gateway(raw.get("ai_gateway"))
        doc["tags"] = tags_to_dict(raw.get("tags"))
        if "permissions" in raw:
            doc["permissions"] = normalize_permissions(raw["permissions"])
        return doc

    def diff(self, desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[FieldDiff]:
        diffs: list[FieldDiff] = []
        if "description" in desired and (desired["description"] or None) != (
            live.get("description") or None
        ):
            diffs.append(field_diff("description", live.get("description"), desired["description"]))
        if "route_optimized" in desired and desired["route_optimized"] != bool(
            live.get("route_optimized")
        ):
            before = bool(live.get("route_optimized"))
            diffs.append(field_diff("route_optimized", before, desired["route_optimized"]))
        # GET never returns budget_policy_id (only effective_budget_policy_id): compare it
        # only where the live side carries it, never plan a replace from its absence.
        budget = live.get("budget_policy_id")
        if budget and desired.get("budget_policy_id", budget) != budget:
            diffs.append(field_diff("budget_policy_id", budget, desired["budget_policy_id"]))
        diffs.extend(diff_entities(desired["served_entities"], live.get("served_entities") or []))
        want_traffic, have_traffic = desired.get("traffic") or {}, live.get("traffic") or {}
        for route in sorted(set(want_traffic) | set(have_traffic)):
            if want_traffic.get(route) != have_traffic.get(route):
                diffs.append(
                    field_diff(f"traffic.{route}", have_traffic.get(route), want_traffic.get(route))
                )
        if "ai_gateway" in desired:
            diffs.extend(
                diff_managed(
                    {"ai_gateway": desired["ai_gateway"]},
                    {"ai_gateway": live.get("ai_gateway") or {}},
                    defaults=_GATEWAY_DEFAULTS,
                )
            )
        if "tags" in desired:
            diffs.extend(diff_tags(desired["tags"], live.get("tags") or {}, "tags"))
        if "permissions" in desired and "permissions" in live:
            want = canonical_permissions(desired["permissions"])
            if want != live["permissions"]:
                diffs.append(field_diff("permissions", live["permissions"], want))
        return diffs

    def creation_diffs(self, doc: Mapping[str, Any]) -> list[FieldDiff]:
        """Served entities one per line, by name, as updates show them."""
        diffs = []
        for key, value in doc.items():
            if key == "served_entities":
                for entity in value:
                    view = {k: v for k, v in entity.items() if k not in ("name", "alias")}
                    if entity.get("alias"):
                        view["entity"] = f"{entity['entity']}@{entity['alias']}"
                    diffs.append(field_diff(f"served_entities.{entity['name']}", None, view))
            else:
                diffs.append(field_diff(key, None, value))
        return diffs

    def dependencies(self, name: str, doc: Mapping[str, Any], known: Set[str]) -> list[str]:
        deps = []
        for entity in doc.get("served_entities") or []:
            model = str(entity.get("entity", ""))
            deps.append(address_of(KindName.REGISTERED_MODEL, model))
            if entity.get("alias"):
                deps.append(address_of(KindName.MODEL_ALIAS, f"{model}@{entity['alias']}"))
        return sorted({d for d in deps if d in known})

    def replace_reason(self, name: str, immutable: Sequence[FieldDiff]) -> str:
        fields = ", ".join(sorted({d.path for d in immutable}))
        return (
            f"{fields} cannot change in place: endpoint {name} is deleted and recreated; it serves"
            " no traffic until the new endpoint is READY, and its id (permissions, inference"
            " table history) changes"
        )

    def delete_reason(self, name: str, live: Mapping[str, Any]) -> str:
        return f"deletes serving endpoint {name}; its clients get errors from then on"


register(ServingEndpointRules())
