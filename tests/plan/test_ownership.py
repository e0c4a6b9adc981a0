"""Ownership markers: what a project owns is read from tags and inventory records."""

from __future__ import annotations

from reconciler.model.live import OWNER_TAG
from reconciler.workspace import ownership


def test_alias_inventory_round_trip() -> None:
    tags: dict[str, str] = {}
    key, value = ownership.alias_inventory_after(tags, "proj", "champion", present=True)
    assert (key, value) == ("reconciler.aliases.proj", "champion")
    tags[key] = value
    key, value = ownership.alias_inventory_after(tags, "proj", "challenger", present=True)
    assert value == "challenger,champion"
    tags[key] = value
    assert ownership.alias_owner(tags, "champion") == "proj"
    assert ownership.alias_owner(tags, "manual") is None
    key, value = ownership.alias_inventory_after(tags, "proj", "champion", present=False)
    assert value == "challenger"
    tags[key] = value
    assert ownership.alias_inventory_after(tags, "proj", "challenger", present=False)[1] is None


def test_index_and_quota_markers() -> None:
    tags = {
        OWNER_TAG: "proj",
        ownership.index_marker_key("c.s.a"): "proj",
        ownership.index_marker_key("c.s.b"): "other",
        ownership.QUOTA_TAG: "proj",
    }
    assert ownership.indexes_owned(tags, "proj") == ["c.s.a"]
    assert ownership.index_owner(tags, "c.s.b") == "other"
    assert ownership.quota_owner(tags) == "proj"
    assert ownership.owner_of({}) is None
