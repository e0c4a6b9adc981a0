"""Ownership markers: what a project owns is read from tags and inventory records."""

from __future__ import annotations

from reconciler.adapters.databricks.held_indexes import index_marker_key, index_owner, indexes_owned
from reconciler.adapters.databricks.markers import owner_of
from reconciler.adapters.databricks.model_tags import alias_inventory_after, alias_owner
from reconciler.adapters.databricks.serving_endpoint import QUOTA_TAG, quota_owner
from reconciler.model.live import OWNER_TAG


def test_alias_inventory_round_trip() -> None:
    tags: dict[str, str] = {}
    key, value = alias_inventory_after(tags, "proj", "champion", present=True)
    assert (key, value) == ("reconciler.aliases.proj", "champion")
    tags[key] = value
    key, value = alias_inventory_after(tags, "proj", "challenger", present=True)
    assert value == "challenger,champion"
    tags[key] = value
    assert alias_owner(tags, "champion") == "proj"
    assert alias_owner(tags, "manual") is None
    key, value = alias_inventory_after(tags, "proj", "champion", present=False)
    assert value == "challenger"
    tags[key] = value
    assert alias_inventory_after(tags, "proj", "challenger", present=False)[1] is None


def test_index_and_quota_markers() -> None:
    tags = {
        OWNER_TAG: "proj",
        index_marker_key("c.s.a"): "proj",
        index_marker_key("c.s.b"): "other",
        QUOTA_TAG: "proj",
    }
    assert indexes_owned(tags, "proj") == ["c.s.a"]
    assert index_owner(tags, "c.s.b") == "other"
    assert quota_owner(tags) == "proj"
    assert owner_of({}) is None
