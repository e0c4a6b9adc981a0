"""How the tool marks what a project owns, so prune can find it and never touches the rest.

Where the API has tags the asset carries ``reconciler.project=<project>`` itself (serving
endpoints, Vector Search endpoints, registered models through the UC securable-tags route).
Kinds without tags get an inventory record on the nearest asset that has tags:

- ``model_alias``: the registered model carries ``reconciler.aliases.<project>=a,b`` (the
  aliases that project set, sorted, comma-separated). Alias ownership does not need the
  model to be owned: a project may manage the aliases of a model a pipeline created.
- ``vector_index``: its Vector Search endpoint carries ``reconciler.index.<index>=<project>``.
- ``quota``: the serving endpoint carries ``reconciler.quota=<project>`` (quotas are often set on
  endpoints nobody here owns, such as pay-per-token foundation model endpoints).

Apply writes these markers when it creates or changes an asset and removes them when it deletes
one; the read side only interprets them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reconciler.model.live import OWNER_TAG

ALIASES_TAG_PREFIX = "reconciler.aliases."
INDEX_TAG_PREFIX = "reconciler.index."
QUOTA_TAG = "reconciler.quota"
APPROVAL_TAG_PREFIX = "reconciler.approval."
"""Model version tag ``reconciler.approval.<alias>``: the approval reference of the promotion
that pointed ``alias`` at the version (the MLflow adapter keeps the same key)."""


def approval_tag(alias: str) -> str:
    return APPROVAL_TAG_PREFIX + alias


def owner_of(tags: Mapping[str, str]) -> str | None:
    return tags.get(OWNER_TAG) or None


def alias_inventory_key(project: str) -> str:
    return ALIASES_TAG_PREFIX + project


def format_alias_inventory(aliases: Iterable[str]) -> str:
    return ",".join(sorted(set(aliases)))


def parse_alias_inventory(value: str | None) -> set[str]:
    return {a.strip() for a in (value or "").split(",") if a.strip()}


def alias_owner(model_tags: Mapping[str, str], alias: str) -> str | None:
    """The project whose inventory on the model lists ``alias`` (the first, by name)."""
    for key in sorted(model_tags):
        if key.startswith(ALIASES_TAG_PREFIX) and alias in parse_alias_inventory(model_tags[key]):
            return key[len(ALIASES_TAG_PREFIX) :]
    return None


def index_marker_key(index_name: str) -> str:
    return INDEX_TAG_PREFIX + index_name


def indexes_owned(endpoint_tags: Mapping[str, str], project: str) -> list[str]:
    return sorted(
        key[len(INDEX_TAG_PREFIX) :]
        for key, value in endpoint_tags.items()
        if key.startswith(INDEX_TAG_PREFIX) and value == project
    )


def index_owner(endpoint_tags: Mapping[str, str], index_name: str) -> str | None:
    return endpoint_tags.get(index_marker_key(index_name)) or None


def quota_owner(endpoint_tags: Mapping[str, str]) -> str | None:
    return endpoint_tags.get(QUOTA_TAG) or None


def alias_inventory_after(
    model_tags: Mapping[str, str], project: str, alias: str, *, present: bool
) -> tuple[str, str | None]:
    """The model tag to write after an alias of ``project`` is set (``present``) or removed:
    ``(key, value)``, where a None value means delete the tag (no alias left)."""
    key = alias_inventory_key(project)
    aliases = parse_alias_inventory(model_tags.get(key))
    if present:
        aliases.add(alias)
    else:
        aliases.discard(alias)
    return key, format_alias_inventory(aliases) or None
