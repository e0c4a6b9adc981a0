"""Model serving endpoints: served entities, scaling, traffic, AI Gateway, tags, permissions.

``PUT .../config`` replaces the served entities and the traffic split, so both compare in full
(an entity the manifest leaves out is removed). ``description``, ``route_optimized`` and
``budget_policy_id`` cannot change after creation. Rate limits belong to the ``quota`` kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence, Set
from typing import Any, ClassVar, Literal, Self

from pydantic import Field, field_validator, model_validator

from reconciler.kinds.access import DeployerKeepsAccess, keep_deployer
from reconciler.kinds.ai_gateway import GATEWAY_DEFAULTS, AiGatewaySpec, kept_gateway_fields
from reconciler.kinds.base import ENDPOINT_NAME, UC_NAME
from reconciler.kinds.diffing import diff_managed, diff_tags, field_diff, sorted_tags
from reconciler.kinds.external_model import plaintext_credentials
from reconciler.kinds.keep_live import KeyOf
from reconciler.kinds.rules import DesiredContext, KindRules, ordered, under, without_defaults
from reconciler.kinds.served_entity import (
    ENTITY_DEFAULTS,
    THROUGHPUT,
    ServedEntitySpec,
    diff_entities,
    import_entity,
    kept_entity_fields,
    served_now,
)
from reconciler.model.changes import Action, FieldDiff
from reconciler.model.errors import ManifestError
from reconciler.model.live import LiveAsset
from reconciler.model.resources import DesiredState, KindName, Resource, address_of
from reconciler.model.spec import FieldError, Spec
from reconciler.project import Target, TargetType

MAX_SERVED_ENTITIES = 10
CONFIG = ("served_entities", "traffic")
"""What ``PUT .../config`` replaces, whole."""
REPLACE_CARRIES = ("email_notifications",)
"""Endpoint settings a replace sends to the new endpoint when the manifest does not set them,
modelled or not (the create call takes them; ``telemetry_config`` is not among them: its table
names are never returned)."""
SERVES = "serves"
"""Not a manifest field: the diff path saying an endpoint would switch between external models
and other entities, which the API cannot do in place."""
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class PermissionSpec(Spec):
    """One direct ACL entry; exactly one of user, group, service_principal."""

    user: str | None = None
    group: str | None = None
    service_principal: str | None = None
    level: Literal["CAN_MANAGE", "CAN_QUERY", "CAN_VIEW"]

    @model_validator(mode="after")
    def _one_principal(self) -> Self:
        given = [p for p in (self.user, self.group, self.service_principal) if p is not None]
        if len(given) != 1:
            raise ValueError("a permission names exactly one of user, group, service_principal")
        return self


class EmailNotificationsSpec(Spec):
    """Who hears about config updates (the API's names); a list left out means nobody."""

    on_update_success: list[str] | None = None
    """Addresses told when a config update succeeds."""
    on_update_failure: list[str] | None = None
    """Addresses told when a config update fails."""

    @field_validator("on_update_success", "on_update_failure")
    @classmethod
    def _addresses(cls, value: list[str] | None) -> list[str] | None:
        for index, address in enumerate(value or []):
            if not EMAIL.match(address):
                raise FieldError(f"{address!r} is not an email address", at=(index,))
        return value


def canonical_notifications(value: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """Both lists sorted without repeats; an empty list is the same as none."""
    out = {}
    for key in ("on_update_failure", "on_update_success"):
        found = sorted(set((value or {}).get(key) or []))
        if found:
            out[key] = found
    return out


class ServingEndpointSpec(Spec):
    """``serving_endpoints:`` entry."""

    name: str
    """Endpoint name: letters, digits, '-' and '_' (at most 63)."""
    description: str | None = None
    """Set at creation; changing it replaces the endpoint."""
    route_optimized: bool | None = None
    """Set at creation; changing it replaces the endpoint."""
    budget_policy_id: str | None = None
    """Set at creation."""
    served_entities: list[ServedEntitySpec] = Field(min_length=1)
    """1 to 10 served models."""
    traffic: dict[str, int] | None = None
    """served entity name -> percent; required with several entities; sums to 100."""
    ai_gateway: AiGatewaySpec | None = None
    """AI Gateway settings; rate limits are declared under quotas."""
    tags: dict[str, str] | None = None
    """Endpoint tags."""
    permissions: list[PermissionSpec] | None = None
    """Direct ACL entries."""
    email_notifications: EmailNotificationsSpec | None = None
    """Addresses told about config updates: on_update_success, on_update_failure."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not ENDPOINT_NAME.match(value):
            raise ValueError(
                f"endpoint name {value!r}: use letters, digits, '-' and '_' (at most 63),"
                " starting with a letter or digit"
            )
        return value

    @model_validator(mode="after")
    def _check(self) -> Self:
        entities = self.served_entities
        if len(entities) > MAX_SERVED_ENTITIES:
            raise FieldError(
                f"endpoint {self.name!r} has {len(entities)} served entities;"
                f" at most {MAX_SERVED_ENTITIES} are allowed",
                at=("served_entities", MAX_SERVED_ENTITIES),
            )
        names = [e.name for e in entities]
        external = [e.external_model is not None for e in entities]
        if any(external) and not all(external):
            index = external.index(not external[0])
            raise FieldError(
                f"endpoint {self.name!r} mixes external models with other served entities;"
                " an endpoint serves external models only, or none",
                at=("served_entities", index, "name"),
            )
        seen: set[str] = set()
        for index, name in enumerate(names):
            if name in seen:
                raise FieldError(
                    f"endpoint {self.name!r}: served entity name {name!r} is used twice",
                    at=("served_entities", index, "name"),
                )
            seen.add(name)
        if self.traffic is None:
            if len(entities) > 1:
                raise FieldError(
                    f"endpoint {self.name!r} serves {len(entities)} entities and needs"
                    f" a traffic split naming each (traffic: {{{names[0]}: 90, ...}})",
                    at=("served_entities",),
                )
            return self
        for route, pct in self.traffic.items():
            if route not in seen:
                raise FieldError(
                    f"endpoint {self.name!r}: traffic names {route!r}, which is not a served"
                    f" entity (served: {', '.join(names)})",
                    at=("traffic", route),
                    key=True,
                )
            if not 0 <= pct <= 100:
                raise FieldError(
                    f"endpoint {self.name!r}: traffic to {route!r} is {pct}%; it must be 0 to 100",
                    at=("traffic", route),
                )
        total = sum(self.traffic.values())
        if total != 100:
            raise FieldError(
                f"endpoint {self.name!r}: traffic sums to {total}%, not 100%", at=("traffic",)
            )
        return self


def _serves(entities: Sequence[Mapping[str, Any]]) -> str:
    return "external models" if any(e.get("external_model") for e in entities) else "models"


def canonical_permissions(perms: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    cleaned = [{k: v for k, v in p.items() if v is not None} for p in perms]
    return sorted(cleaned, key=lambda p: sorted(p.items()))


class ServingEndpointRules(DeployerKeepsAccess, KindRules):
    kind = KindName.SERVING_ENDPOINT
    spec = ServingEndpointSpec
    manifest_key = "serving_endpoints"
    noun = "serving endpoint"
    apply_timeout = 45 * 60.0  # Terraform: 45 minutes for serving endpoints
    replaced_on_override = frozenset({"traffic"})
    immutable: ClassVar[Mapping[str, str]] = {
        **{
            field: "the API has no update for it; only a create sets it"
            for field in ("description", "route_optimized")
        },
        SERVES: "an endpoint serves external models, or other entities, for life",
    }
    write_only: ClassVar[frozenset[str]] = frozenset(
        {
            # GET carries effective_budget_policy_id (maybe the workspace's), never this:
            # sent by a create only, never an update or replace from the live side.
            "budget_policy_id",
            "served_entities.*.burst_scaling_enabled",
            "served_entities.*.external_model.**.*_plaintext",
            "telemetry_config.table_names",
        }
    )
    server_defaults: ClassVar[Mapping[str, Any]] = {
        "route_optimized": False,
        **{f"served_entities.*.{k}": v for k, v in ENTITY_DEFAULTS.items()},
        **GATEWAY_DEFAULTS,
    }
    folded: ClassVar[Mapping[str, Callable[[Any], Any]]] = {
        "tags": sorted_tags,
        "permissions": canonical_permissions,
        "email_notifications": canonical_notifications,
    }
    keyed_lists: ClassVar[Mapping[str, KeyOf]] = {"served_entities": lambda e: str(e["name"])}

    def desired_doc(self, resource: Resource, ctx: DesiredContext) -> dict[str, Any]:
        spec = resource.spec
        assert isinstance(spec, ServingEndpointSpec)
        doc = spec.doc()
        serving = served_now(ctx.live_doc(resource))
        entities = []
        for i, entity in enumerate(spec.served_entities):
            ed = entity.doc()
            if entity.external_model is not None:
                entities.append(ed)
                continue
            model = entity.model_name
            # The version this entity already serves: a version in place is not checked.
            in_place = serving.get((entity.name, model))
            if entity.alias:
                path = f"served_entities.{i}.entity"
                version = ctx.alias_version(resource, path, model, entity.alias, in_place=in_place)
                ed["alias"] = entity.alias
            else:
                assert entity.version is not None
                version = entity.version
                if version != in_place:
                    ctx.check_version(resource, f"served_entities.{i}.version", model, version)
            ed["entity"], ed["version"] = model, version
            bounds = {f: ed[f] for f in THROUGHPUT if ed.get(f) is not None}
            if bounds:
                ctx.check_throughput(resource, f"served_entities.{i}", model, version, bounds)
            entities.append(ed)
        doc["served_entities"] = entities
        if "permissions" in doc:
            doc["permissions"] = keep_deployer(doc["permissions"], ctx.caller)
        if spec.traffic is None:
            doc["traffic"] = {entities[0]["name"]: 100}
        else:
            doc["traffic"] = dict(sorted((k, v) for k, v in spec.traffic.items() if v))
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
        held = live.get("served_entities") or []
        if held and _serves(held) != _serves(desired["served_entities"]):
            diffs.append(field_diff(SERVES, _serves(held), _serves(desired["served_entities"])))
        diffs.extend(diff_entities(desired["served_entities"], held))
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
                    defaults=self.server_defaults,
                )
            )
        if "tags" in desired:
            diffs.extend(diff_tags(desired["tags"], live.get("tags") or {}, "tags"))
        if "email_notifications" in desired:
            wanted = canonical_notifications(desired["email_notifications"])
            held = canonical_notifications(live.get("email_notifications"))
            for key in sorted(set(wanted) | set(held)):
                if wanted.get(key) != held.get(key):
                    path = f"email_notifications.{key}"
                    diffs.append(field_diff(path, held.get(key), wanted.get(key)))
        if "permissions" in desired and "permissions" in live:
            want = canonical_permissions(desired["permissions"])
            if want != live["permissions"]:
                diffs.append(field_diff("permissions", live["permissions"], want))
        return diffs

    def write_problem(self, doc: Mapping[str, Any]) -> str | None:
        """The traffic split must route to served entities of the same config, 100% in all."""
        names = [str(e["name"]) for e in doc.get("served_entities") or []]
        traffic = doc.get("traffic") or {}
        for route, pct in sorted(traffic.items()):
            if route not in names and pct:
                return (
                    f"the live traffic split sends {pct}% to served entity {route!r}, which the"
                    f" manifest no longer serves (served: {', '.join(names)})"
                )
        total = sum(int(p) for p in traffic.values())
        if traffic and total != 100:
            return f"the traffic split would sum to {total}%, not 100%"
        return None

    def carried(
        self, write: Mapping[str, Any], live: LiveAsset, diffs: Sequence[FieldDiff], action: Action
    ) -> list[str]:
        """A config write carries the live entities' unset fields (matched by name), an AI
        Gateway write the live settings the manifest leaves unset; a replace carries both, the
        live tags when the manifest sets none, the create-only settings it leaves unset, and
        ``REPLACE_CARRIES``."""
        replace = action is Action.REPLACE
        touched = {d.path.split(".", 1)[0] for d in diffs}
        out: list[str] = []
        if replace or touched & set(CONFIG):
            have = {str(e["name"]): e for e in live.doc.get("served_entities") or []}
            for entity in write.get("served_entities") or []:
                name = str(entity["name"])
                if name in have:
                    prefix = f"served_entities.{name}"
                    out += [f"{prefix}.{k}" for k in kept_entity_fields(entity, have[name])]
                    out += [p for p in live.unmodelled if under(p, [prefix])]
        if replace or ("ai_gateway" in write and "ai_gateway" in touched):
            out += kept_gateway_fields(
                write.get("ai_gateway") or {}, live.doc.get("ai_gateway") or {}
            )
            out += [p for p in live.unmodelled if under(p, ["ai_gateway"])]
        if replace:
            if "tags" not in write and live.doc.get("tags"):
                out.append("tags")
            for key in ("description", "route_optimized", *REPLACE_CARRIES):
                if key not in write and (live.doc.get(key) or key in live.unmodelled):
                    out.append(key)
        return sorted(set(out))

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
            if not entity.get("entity"):
                continue  # an external model
            model = str(entity["entity"])
            deps.append(address_of(KindName.REGISTERED_MODEL, model))
            if entity.get("alias"):
                deps.append(address_of(KindName.MODEL_ALIAS, f"{model}@{entity['alias']}"))
        return sorted({d for d in deps if d in known})

    def replace_reason(self, name: str, immutable: Sequence[FieldDiff]) -> str:
        fields = ", ".join(sorted({d.path for d in immutable}))
        return (
            f"{fields} cannot change in place (the API has no update for it; only a create sets"
            f" it): endpoint {name} is deleted and recreated; it serves"
            " no traffic until the new endpoint is READY, and its id (permissions, inference"
            " table history) changes"
        )

    def delete_reason(self, name: str, live: Mapping[str, Any]) -> str:
        return f"deletes serving endpoint {name}; its clients get errors from then on"

    def check_references(self, resource: Resource, desired: DesiredState, target: Target) -> None:
        """Served entities name Unity Catalog models (three-level names) on Databricks."""
        if target.type is TargetType.MLFLOW:
            return
        endpoint = resource.spec
        assert isinstance(endpoint, ServingEndpointSpec)
        for index, entity in enumerate(endpoint.served_entities):
            if entity.external_model is None and not UC_NAME.match(entity.model_name):
                raise ManifestError(
                    f"served entity {entity.name!r}: {entity.model_name!r} is not a three-level"
                    " Unity Catalog name (catalog.schema.model)",
                    location=desired.location_of(
                        resource.address, f"served_entities.{index}.entity"
                    ),
                    hint="write the entity as catalog.schema.model@alias",
                )

    def import_skip(self, asset: LiveAsset) -> str | None:
        """Pay-per-token endpoints (a foundation model and no Unity Catalog entity) are
        defined by Databricks (``raw["config"]``), not by manifests; an external model whose
        credential was given as plaintext cannot be written (manifests hold references)."""
        config = asset.raw.get("config") or {}
        entities = config.get("served_entities") or []
        if any(e.get("foundation_model") and not e.get("entity_name") for e in entities):
            return "a pay-per-token foundation model endpoint; import its quota instead"
        for entity in asset.doc.get("served_entities") or []:
            missing = plaintext_credentials(entity.get("external_model") or {})
            if missing:
                return (
                    f"served entity {entity.get('name')!r}: {' and '.join(missing)} was given"
                    " as plaintext, which the API never returns, and manifests hold secret"
                    " references only; store it as a Databricks secret, update the endpoint"
                    " to use '{{secrets/SCOPE/KEY}}', then import again"
                )
        return None

    def import_entry(self, asset: LiveAsset) -> dict[str, Any] | None:
        """Permissions stay out (they often name people); so does every server default, and a
        traffic split that only says the one entity gets everything."""
        out = dict(asset.doc)
        out.pop("permissions", None)
        entities = [import_entity(e) for e in out.get("served_entities") or []]
        out["served_entities"] = entities
        traffic = out.get("traffic") or {}
        if len(entities) == 1 and traffic == {entities[0]["name"]: 100}:
            out.pop("traffic", None)
        gateway = dict(out.get("ai_gateway") or {})
        for flag in ("usage_tracking", "fallbacks"):
            if gateway.get(flag) is False:
                del gateway[flag]
        out["ai_gateway"] = gateway
        plain = {k: v for k, v in self.server_defaults.items() if "." not in k}
        keys = ("name", "description", "route_optimized", "budget_policy_id", "served_entities")
        rest = ("traffic", "ai_gateway", "email_notifications", "tags")
        return ordered(without_defaults(out, plain), (*keys, *rest))


RULES = (ServingEndpointRules(),)
