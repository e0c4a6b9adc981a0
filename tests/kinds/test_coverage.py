"""Every kind is complete: rules and metadata, a Databricks mapping, reader, writer and lister,
import support, and sandbox routes. A kind added to ``KindName`` and forgotten anywhere fails
here, naming what is missing."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.adapters.databricks import kinds as databricks_kinds
from reconciler.kinds.manifest_file import ManifestFile
from reconciler.kinds.registry import all_rules, importable_kinds, rules_for
from reconciler.model.live import LiveAsset
from reconciler.model.resources import KindName
from reconciler.model.spec import Spec
from reconciler.sandbox import server

KINDS = list(KindName)


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_every_kind_has_rules_and_metadata(kind: KindName) -> None:
    rules = rules_for(kind)
    assert rules.kind is kind
    assert issubclass(rules.spec, Spec)
    assert rules.noun.strip(), f"{kind}: no noun for messages"
    assert (rules.manifest_key is None) != (rules.imported_with is None), (
        f"{kind}: a kind is written in manifests under its own key, or comes with another kind"
    )
    if rules.manifest_key is not None:
        assert rules.manifest_key in ManifestFile.model_fields
    for path, why in rules.immutable.items():
        assert path and why.strip(), f"{kind}: immutable field {path!r} gives no reason"


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_every_kind_has_a_databricks_mapping_reader_and_writer(kind: KindName) -> None:
    adapter = databricks_kinds.ADAPTERS.get(kind)
    assert adapter is not None, f"{kind}: no module in adapters/databricks maps it"
    assert callable(adapter.normalize) and callable(adapter.apply)
    readers = [r for r in databricks_kinds.READERS if kind in r.kinds]
    assert len(readers) == 1, f"{kind}: read by {len(readers)} readers, not one"


RAW: dict[KindName, dict[str, Any]] = {
    KindName.REGISTERED_MODEL: {
        "full_name": "c.s.m",
        "comment": "routes tickets",
        "tags": [{"key": "team", "value": "support"}],
        "aliases": [{"alias_name": "champion", "version_num": 2}],
    },
    KindName.SERVING_ENDPOINT: {
        "name": "ep",
        "config": {
            "served_entities": [
                {
                    "name": "champion",
                    "entity_name": "c.s.m",
                    "entity_version": "2",
                    "workload_size": "Small",
                    "workload_type": "CPU",
                    "scale_to_zero_enabled": True,
                }
            ],
            "traffic_config": {
                "routes": [{"served_entity_name": "champion", "traffic_percentage": 100}]
            },
        },
    },
    KindName.VECTOR_SEARCH_ENDPOINT: {"name": "vs", "endpoint_type": "STANDARD"},
    KindName.VECTOR_INDEX: {
        "name": "c.s.i",
        "endpoint_name": "vs",
        "primary_key": "id",
        "index_subtype": "HYBRID",
        "delta_sync_index_spec": {
            "source_table": "c.s.t",
            "pipeline_type": "TRIGGERED",
            "embedding_source_columns": [
                {"name": "text", "embedding_model_endpoint_name": "databricks-bge-large-en"}
            ],
        },
    },
    KindName.QUOTA: {
        "name": "ep",
        "ai_gateway": {
            "rate_limits": [{"key": "endpoint", "calls": 10, "renewal_period": "minute"}]
        },
    },
}
"""One live object per importable kind, as the Databricks API returns it."""


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_every_kind_can_be_imported(kind: KindName) -> None:
    """Listed by the adapter, shaped by the kind into an entry a manifest accepts (server
    defaults left out); a kind without a manifest key comes with the kind that holds it."""
    rules = rules_for(kind)
    adapter = databricks_kinds.ADAPTERS[kind]
    if rules.imported_with is not None:
        assert kind not in importable_kinds()
        assert rules.imported_with in importable_kinds()
        return
    assert kind in importable_kinds()
    assert adapter.list_names is not None, f"{kind}: no list call for import"
    raw = RAW[kind]
    name = str(raw.get("full_name") or raw["name"])
    asset = LiveAsset(kind, name, databricks_kinds.normalize(kind, raw), raw)
    entry = rules.import_entry(asset)
    assert entry is not None
    ManifestFile.model_validate({rules.manifest_key: [entry]})
    for path, default in rules.server_defaults.items():
        if "." not in path:
            assert entry.get(path) != default, f"{kind}: import wrote the default {path}"


def test_the_sandbox_serves_every_kind() -> None:
    served = [k for module in server.ROUTE_MODULES for k in getattr(module, "SERVES", ())]
    assert sorted(served) == sorted(k.value for k in KindName), "each kind served exactly once"


def test_the_registry_holds_every_kind_in_kindname_order() -> None:
    assert list(all_rules()) == KINDS
