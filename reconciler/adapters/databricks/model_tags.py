"""The tags of a Unity Catalog model, and the records this tool keeps in them: the alias
inventories (which project set which alias) and the grant records (what a project granted on
the model). They go through MLflow's Unity Catalog routes, which Databricks workspaces serve
(the 2.1 ``RegisteredModelInfo`` has no tags): read with ``registered-models/get``, changed with
``PATCH .../securable-tags/FUNCTION/{full_name}``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.adapters.databricks.grants import RECORD_PREFIX, RecordHolder
from reconciler.adapters.databricks.markers import tag_map, wire_tags
from reconciler.adapters.databricks.model_versions import MLFLOW_UC
from reconciler.adapters.databricks.sdk import WorkspaceClient
from reconciler.runtime import retry

MODEL_TAGS = f"{MLFLOW_UC}/registered-models/get"
SECURABLE_TAGS = "/api/2.1/unity-catalog/securable-tags/FUNCTION"
ALIASES_TAG_PREFIX = "reconciler.aliases."
"""Model tag ``reconciler.aliases.<project>=a,b``: the aliases that project set (sorted). Alias
ownership does not need the model to be owned: a project may manage the aliases of a model a
pipeline created."""


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


def model_tags(client: WorkspaceClient, full_name: str) -> dict[str, str]:
    doc = retry.call(
        lambda: client.api_client.do("GET", MODEL_TAGS, query={"name": full_name}),
        what=f"reading tags of {full_name}",
    )
    model = doc.get("registered_model") if isinstance(doc, dict) else None
    return tag_map(model.get("tags") if isinstance(model, dict) else None)


def patch_model_tags(
    client: WorkspaceClient, full_name: str, add: Mapping[str, str], remove: list[str]
) -> None:
    path = f"{SECURABLE_TAGS}/{full_name}"
    if remove:
        body: dict[str, Any] = {"changes": {"remove": remove}}
        retry.call(lambda: client.api_client.do("PATCH", path, body=body), what="removing tags")
    if add:
        body = {"changes": {"add_tags": wire_tags(add)}}
        retry.call(lambda: client.api_client.do("PATCH", path, body=body), what="adding tags")


def model_record_holder(client: WorkspaceClient, full_name: str) -> RecordHolder:
    """A model's grant records are tags of the model itself."""

    def write(key: str, value: str | None) -> None:
        if value is None:
            patch_model_tags(client, full_name, {}, [key])
        else:
            patch_model_tags(client, full_name, {key: value}, [])

    return RecordHolder(
        lock=f"model:{full_name}",
        prefix=RECORD_PREFIX,
        tags=lambda: model_tags(client, full_name),
        write=write,
    )
