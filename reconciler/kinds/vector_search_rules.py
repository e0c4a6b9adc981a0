"""Vector Search endpoints and indexes.

An endpoint's type is fixed at creation; an index has no update call at all, so any change of
its spec rebuilds it. The server rewrites ``schema_json`` (Spark type names, sorted keys) and
fills ``index_subtype``; both fold away here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence, Set
from typing import Any

from reconciler.kinds.diffing import diff_managed, diff_tags, field_diff, tags_to_dict
from reconciler.kinds.rules import DesiredContext, KindRules, register
from reconciler.kinds.vector_search import VectorSearchEndpointSpec
from reconciler.model.changes import FieldDiff
from reconciler.model.resources import KindName, Resource, address_of

DEFAULT_SUBTYPE = "HYBRID"
_SPARK_TYPES = {"integer": "int", "long": "bigint", "short": "smallint", "byte": "tinyint"}


def fold_type(name: str) -> str:
    """``integer`` and ``int`` (and the other Spark spellings) are the same column type."""
    folded = "".join(str(name).lower().split())
    if folded.startswith("array<") and folded.endswith(">"):
        return f"array<{fold_type(folded[len('array<') : -1])}>"
    return _SPARK_TYPES.get(folded, folded)


def fold_schema(schema: Mapping[str, Any] | str | None) -> dict[str, str]:
    if schema is None:
        return {}
    if isinstance(schema, str):
        schema = json.loads(schema) if schema.strip() else {}
    assert isinstance(schema, Mapping)
    return {str(k): fold_type(str(v)) for k, v in sorted(schema.items())}


def _source_columns(raw: Any) -> list[dict[str, Any]]:
    out = []
    for col in raw or []:
        doc: dict[str, Any] = {"name": col.get("name")}
        endpoint = col.get("embedding_model_endpoint_name") or col.get("model_endpoint")
        if endpoint:
            doc["model_endpoint"] = endpoint
        query = col.get("model_endpoint_name_for_query") or col.get("model_endpoint_for_query")
        if query:
            doc["model_endpoint_for_query"] = query
        out.append(doc)
    return out


def _vector_columns(raw: Any) -> list[dict[str, Any]]:
    return [
        {"name": c.get("name"), "dimension": c.get("embedding_dimension", c.get("dimension"))}
        for c in raw or []
    ]


class VectorSearchEndpointRules(KindRules):
    kind = KindName.VECTOR_SEARCH_ENDPOINT
    immutable = ("type",)

    def is_external(self, resource: Resource) -> bool:
        spec = resource.spec
        return isinstance(spec, VectorSearchEndpointSpec) and spec.external

    def desired_doc(self, resource: Resource, ctx: DesiredContext) -> dict[str, Any]:
        doc = resource.spec.doc()
        doc.pop("external", None)
        if "tags" in doc:
            doc["tags"] = dict(sorted(doc["tags"].items()))
        return doc

    def normalize(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": raw.get("name"), "type": raw.get("endpoint_type")}
        # Only the policy set on the endpoint; effective_budget_policy_id may be inherited.
        if raw.get("budget_policy_id"):
            doc["budget_policy_id"] = raw["budget_policy_id"]
        doc["tags"] = tags_to_dict(raw.get("custom_tags"))
        return doc

    def diff(self, desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[FieldDiff]:
        diffs = []
        if "type" in desired and desired["type"] != live.get("type"):
            diffs.append(field_diff("type", live.get("type"), desired["type"]))
        # GET returns only the effective policy, so a live side without one says nothing.
        budget = live.get("budget_policy_id")
        if budget and desired.get("budget_policy_id", budget) != budget:
            diffs.append(field_diff("budget_policy_id", budget, desired["budget_policy_id"]))
        if "tags" in desired:
            diffs.extend(diff_tags(desired["tags"], live.get("tags") or {}, "tags"))
        return diffs

    def replace_reason(self, name: str, immutable: Sequence[FieldDiff]) -> str:
        return (
            f"type cannot change in place: vector search endpoint {name} is deleted and"
            " recreated, and every index on it is lost and must be rebuilt and re-synced"
        )

    def delete_reason(self, name: str, live: Mapping[str, Any]) -> str:
        held = int(live.get("num_indexes") or 0)
        lost = (
            f"; it held {held} index(es) when read, and any not deleted first are lost with it"
            if held
            else ""
        )
        return f"deletes vector search endpoint {name}{lost}"


class VectorIndexRules(KindRules):
    kind = KindName.VECTOR_INDEX
    immutable = ("endpoint", "primary_key", "subtype", "delta_sync", "direct_access")

    def desired_doc(self, resource: Resource, ctx: DesiredContext) -> dict[str, Any]:
        doc = resource.spec.doc()
        direct = doc.get("direct_access")
        if direct and "schema" in direct:
            direct["schema"] = fold_schema(direct["schema"])
        return doc

    def normalize(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": raw.get("name"),
            "endpoint": raw.get("endpoint_name"),
            "primary_key": raw.get("primary_key"),
            "subtype": raw.get("index_subtype") or DEFAULT_SUBTYPE,
        }
        delta = raw.get("delta_sync_index_spec")
        if delta:
            ds: dict[str, Any] = {
                "source_table": delta.get("source_table"),
                "pipeline_type": delta.get("pipeline_type"),
            }
            if delta.get("embedding_source_columns"):
                ds["embedding_source_columns"] = _source_columns(delta["embedding_source_columns"])
            if delta.get("embedding_vector_columns"):
                ds["embedding_vector_columns"] = _vector_columns(delta["embedding_vector_columns"])
            for key in ("columns_to_sync", "embedding_writeback_table"):
                if delta.get(key):
                    ds[key] = delta[key]
            doc["delta_sync"] = ds
        direct = raw.get("direct_access_index_spec")
        if direct:
            da: dict[str, Any] = {"schema": fold_schema(direct.get("schema_json"))}
            if direct.get("embedding_vector_columns"):
                da["embedding_vector_columns"] = _vector_columns(direct["embedding_vector_columns"])
            if direct.get("embedding_source_columns"):
                da["embedding_source_columns"] = _source_columns(direct["embedding_source_columns"])
            doc["direct_access"] = da
        return doc

    def diff(self, desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[FieldDiff]:
        want = dict(desired)
        if "subtype" not in want:
            live = {k: v for k, v in live.items() if k != "subtype"}
        for kind in ("delta_sync", "direct_access"):
            if kind not in want and live.get(kind) is not None:
                want[kind] = None  # index type switch: the old spec goes away
        return diff_managed(want, live)

    def dependencies(self, name: str, doc: Mapping[str, Any], known: Set[str]) -> list[str]:
        deps = [address_of(KindName.VECTOR_SEARCH_ENDPOINT, str(doc.get("endpoint", "")))]
        for kind in ("delta_sync", "direct_access"):
            for col in (doc.get(kind) or {}).get("embedding_source_columns") or []:
                for key in ("model_endpoint", "model_endpoint_for_query"):
                    if col.get(key):
                        deps.append(address_of(KindName.SERVING_ENDPOINT, col[key]))
        return sorted({d for d in deps if d in known})

    def requires(self, name: str, doc: Mapping[str, Any]) -> list[str]:
        return [address_of(KindName.VECTOR_SEARCH_ENDPOINT, str(doc.get("endpoint", "")))]

    def replace_reason(self, name: str, immutable: Sequence[FieldDiff]) -> str:
        fields = ", ".join(sorted({d.path for d in immutable}))
        specs = {d.path.split(".", 1)[0] for d in immutable} & {"delta_sync", "direct_access"}
        if specs == {"delta_sync"}:
            loss = "the rebuilt index re-syncs and re-embeds its whole source table"
        elif specs == {"direct_access"}:
            loss = "every row upserted into it is lost"
        else:
            loss = (
                "a delta-sync index re-syncs and re-embeds its whole source table,"
                " a direct-access index loses every upserted row"
            )
        return (
            f"{fields} cannot change in place (indexes have no update call): index {name} is"
            f" deleted and rebuilt, losing its contents: {loss}; queries fail until it is ready"
        )

    def delete_reason(self, name: str, live: Mapping[str, Any]) -> str:
        return f"deletes index {name} and its contents"


register(VectorSearchEndpointRules())
register(VectorIndexRules())
