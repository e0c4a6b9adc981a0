"""Registered models and their aliases on Databricks (Unity Catalog): the wire mapping into the
spec shape, the reads, the writes, and the markers that say which aliases a project owns.

Model tags (ownership, alias inventories) go through MLflow's Unity Catalog route, which
Databricks workspaces serve; the 2.1 ``RegisteredModelInfo`` has no tags. Aliases live on their
model: one model GET (``include_aliases``) reads all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import BadRequest, NotFound, NotImplemented, ResourceConflict
from databricks.sdk.errors.base import DatabricksError

from reconciler.adapters.databricks.markers import holder_lock, owner_of, tag_map, wire_tags
from reconciler.adapters.databricks.model_versions import (
    APPROVAL_TAG_PREFIX,
    MLFLOW_UC,
    PROMOTION_TAG_PREFIX,
    VERSION_TAGS,
    approval_tag,
    promotion_record,
    set_version_tag,
    wait_version_ready,
)
from reconciler.adapters.databricks.reading import (
    KindReader,
    ReadRun,
    Task,
    get_or_none,
    names,
    translated,
)
from reconciler.adapters.databricks.writing import (
    KindAdapter,
    desired_of,
    ignore_missing,
    tag_changes,
    touched_keys,
    touches,
)
from reconciler.kinds.diffing import as_int, raw_tags, tags_to_dict
from reconciler.model.changes import Action, Change
from reconciler.model.live import OWNER_TAG, Held, LiveAsset
from reconciler.model.resources import KindName, address_of
from reconciler.runtime import retry
from reconciler.runtime.settings import ApplySettings

MODEL_TAGS = f"{MLFLOW_UC}/registered-models/get"
MODEL_CREATE = f"{MLFLOW_UC}/registered-models/create"
"""Creates a model with its tags (``{name, description, tags}``), as MLflow's client does."""
SECURABLE_TAGS = "/api/2.1/unity-catalog/securable-tags/FUNCTION"
ALIASES_TAG_PREFIX = "reconciler.aliases."
"""Model tag ``reconciler.aliases.<project>=a,b``: the aliases that project set (sorted). Alias
ownership does not need the model to be owned: a project may manage the aliases of a model a
pipeline created."""


# --- wire mapping -----------------------------------------------------------------------


def normalize_model(raw: Mapping[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": raw.get("full_name") or raw.get("name")}
    if raw.get("comment"):
        doc["comment"] = raw["comment"]
    if raw.get("owner"):
        doc["owner"] = raw["owner"]
    doc["tags"] = tags_to_dict(raw.get("tags"))
    return doc


def normalize_alias(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``raw`` is one alias of a model: ``{model, alias_name, version_num}`` (UC) or
    ``{model, alias, version}`` (MLflow, where the version may be a string)."""
    doc = {
        "model": raw["model"],
        "alias": raw.get("alias_name") or raw.get("alias"),
        "version": as_int(raw.get("version_num", raw.get("version"))),
    }
    if raw.get("approval"):
        doc["approval"] = str(raw["approval"])
    return doc


# --- markers: model tags and alias inventories ------------------------------------------


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


def mark_alias(
    client: WorkspaceClient, model: str, alias: str, project: str, *, present: bool
) -> None:
    """Add ``alias`` to (or remove it from) the project's alias inventory on ``model``."""
    if not project:
        return
    with holder_lock(f"model:{model}"):
        try:
            tags = model_tags(client, model)
        except NotFound:
            if present:
                raise
            return  # the model is gone, and its inventory with it
        key, value = alias_inventory_after(tags, project, alias, present=present)
        if tags.get(key) == value:
            return
        if value is None:
            patch_model_tags(client, model, {}, [key])
        else:
            patch_model_tags(client, model, {key: value}, [])


# --- reads ------------------------------------------------------------------------------


class ModelReader(KindReader):
    """Models by name (those the manifests declare, and the models of declared aliases), their
    tags, the approvals aliases need, and (prune) the models of the same schemas that carry
    this project's marks."""

    kinds = frozenset({KindName.REGISTERED_MODEL, KindName.MODEL_ALIAS})

    def __init__(self, run: ReadRun) -> None:
        super().__init__(run)
        wanted = run.wanted
        self.names = wanted[KindName.REGISTERED_MODEL] | {
            a.partition("@")[0] for a in wanted[KindName.MODEL_ALIAS]
        }
        self.models: dict[str, dict[str, Any]] = {}
        self.tags: dict[str, dict[str, str]] = {}
        self.approvals: dict[str, str] = {}
        self.listed: list[str] = []
        self.extra: list[str] = []

    def round(self, number: int) -> list[Task]:
        if number == 0:
            tasks = [self._task_model(m) for m in sorted(self.names)]
            tasks += [self._task_tags(m) for m in sorted(self.names)]
            if self.run.owns(KindName.REGISTERED_MODEL, KindName.MODEL_ALIAS):
                schemas = sorted({m.rsplit(".", 1)[0] for m in self.names if m.count(".") == 2})
                tasks += [self._task_list(schema) for schema in schemas]
            return tasks
        if number == 1:
            self.extra = sorted(set(self.listed) - set(self.tags))
            return [self._task_tags(m) for m in self.extra] + self._approval_tasks()
        if number == 2:
            owned = [m for m in self.extra if self._is_ours(m)]
            return [self._task_model(m) for m in owned if m not in self.models]
        return []

    def _task_model(self, name: str) -> Task:
        def task() -> None:
            found = get_or_none(
                f"registered model {name}",
                lambda: self.client.registered_models.get(name, include_aliases=True),
            )
            if found is not None:
                with self.run.lock:
                    self.models[name] = found.as_dict()

        return task

    def _task_tags(self, name: str) -> Task:
        def task() -> None:
            with translated(f"tags of registered model {name}"):
                try:
                    answer = self.client.api_client.do("GET", MODEL_TAGS, query={"name": name})
                except (NotFound, BadRequest, NotImplemented):
                    answer = {}
            model = answer.get("registered_model") if isinstance(answer, dict) else None
            tags = raw_tags(model.get("tags") if isinstance(model, dict) else None)
            with self.run.lock:
                self.tags[name] = tags

        return task

    def _task_list(self, schema: str) -> Task:
        catalog, _, schema_name = schema.partition(".")

        def task() -> None:
            with translated(f"registered models in {schema}"):
                try:
                    found = [
                        str(m.full_name)
                        for m in self.client.registered_models.list(
                            catalog_name=catalog, schema_name=schema_name
                        )
                    ]
                except NotFound:
                    found = []
            with self.run.lock:
                self.listed.extend(found)

        return task

    def _approval_tasks(self) -> list[Task]:
        """One version GET per alias whose manifest sets an approval, for the version the
        alias points to now."""
        tasks = []
        for name in sorted(set(self.run.request.approvals_for)):
            model, _, alias = name.rpartition("@")
            for entry in (self.models.get(model) or {}).get("aliases") or []:
                if entry.get("alias_name") == alias and entry.get("version_num") is not None:
                    tasks.append(self._task_approval(model, alias, int(entry["version_num"])))
        return tasks

    def _task_approval(self, model: str, alias: str, version: int) -> Task:
        def task() -> None:
            query = {"name": model, "version": str(version)}
            with translated(f"tags of version {version} of model {model}"):
                try:
                    answer = self.client.api_client.do("GET", VERSION_TAGS, query=query)
                except (NotFound, BadRequest, NotImplemented):
                    answer = {}
            found = answer.get("model_version") if isinstance(answer, dict) else None
            tags = raw_tags(found.get("tags") if isinstance(found, dict) else None)
            approval = tags.get(approval_tag(alias))
            if approval:
                with self.run.lock:
                    self.approvals[f"{model}@{alias}"] = approval

        return task

    def _is_ours(self, name: str) -> bool:
        tags = self.tags.get(name, {})
        if owner_of(tags) == self.run.project:
            return True
        key = alias_inventory_key(self.run.project or "")
        return KindName.MODEL_ALIAS in self.run.owned_kinds and bool(tags.get(key))

    def assemble(self) -> None:
        for name, raw in self.models.items():
            tags = self.tags.get(name, {})
            full = {**raw, "tags": [{"key": k, "value": v} for k, v in tags.items()]}
            holds = tuple(
                Held(address_of(KindName.MODEL_ALIAS, f"{name}@{a}"), alias_owner(tags, a))
                for a in sorted(str(x.get("alias_name")) for x in raw.get("aliases") or [])
            )
            self.run.add(KindName.REGISTERED_MODEL, name, full, owner_of(tags), holds=holds)
            for alias in raw.get("aliases") or []:
                alias_name = str(alias.get("alias_name"))
                alias_raw = {**alias, "model": name}
                if approval := self.approvals.get(f"{name}@{alias_name}"):
                    alias_raw["approval"] = approval
                owner = alias_owner(tags, alias_name)
                self.run.add(KindName.MODEL_ALIAS, f"{name}@{alias_name}", alias_raw, owner)


def list_models(client: WorkspaceClient) -> list[str]:
    return names("registered models", client.registered_models.list, "full_name")


# --- writes -----------------------------------------------------------------------------


def _model_exists(client: WorkspaceClient, full_name: str) -> bool:
    try:
        retry.call(lambda: client.registered_models.get(full_name), what=f"reading {full_name}")
    except NotFound:
        return False
    return True


def _create_model(
    client: WorkspaceClient, doc: Mapping[str, Any], provenance: Mapping[str, str]
) -> bool:
    """Create the model with its tags, the ownership marker among them, in one call: MLflow's
    Unity Catalog route takes tags at create (the 2.1 create does not), so no instant leaves
    a created model unmarked. False when it already exists (a retried or interrupted create)."""
    body: dict[str, Any] = {
        "name": doc["name"],
        "tags": wire_tags({**(doc.get("tags") or {}), **provenance}),
    }
    if doc.get("comment"):
        body["description"] = doc["comment"]
    try:
        retry.create(
            lambda: client.api_client.do("POST", MODEL_CREATE, body=body),
            what=f"creating registered model {doc['name']}",
            happened=lambda: _model_exists(client, str(doc["name"])),
        )
    except ResourceConflict:
        return False
    except DatabricksError as error:
        # UC does not always map "already exists" to its own error code.
        if "already exists" not in str(error).lower():
            raise
        return False
    return True


def apply_registered_model(
    client: WorkspaceClient, change: Change, live: LiveAsset | None, settings: ApplySettings
) -> None:
    full_name = change.name
    if change.action is Action.DELETE:
        ignore_missing(
            lambda: client.registered_models.delete(full_name),
            what=f"deleting registered model {full_name}",
        )
        return
    doc = desired_of(change)
    provenance = {OWNER_TAG: settings.project} if settings.project else {}
    created = change.action is Action.CREATE and _create_model(client, doc, provenance)
    # Only what the plan shows: a comment or owner the target ignores is not sent back.
    updates = {k: doc[k] for k in ("comment", "owner") if k in doc and touches(change, k)}
    if created:
        updates.pop("comment", None)
    if updates:
        retry.call(
            lambda: client.registered_models.update(full_name, **updates),
            what=f"updating registered model {full_name}",
        )
    live_tags = model_tags(client, full_name)
    add, remove = tag_changes(
        doc.get("tags"), live_tags, provenance, only=touched_keys(change, "tags")
    )
    patch_model_tags(client, full_name, add, remove)


def apply_model_alias(
    client: WorkspaceClient, change: Change, live: LiveAsset | None, settings: ApplySettings
) -> None:
    model, _, alias = change.name.rpartition("@")
    if change.action is Action.DELETE:
        ignore_missing(
            lambda: client.registered_models.delete_alias(model, alias),
            what=f"deleting alias {change.name}",
        )
        # Unmarked only once gone: a crash in between leaves it marked, so prune retries.
        mark_alias(client, model, alias, settings.project, present=False)
        return
    doc = desired_of(change)
    if change.action is Action.ADOPT and not change.diffs:
        # Already where the manifest says: adopting writes the inventory record only.
        mark_alias(client, model, alias, settings.project, present=True)
        return
    version = int(doc["version"])
    wait_version_ready(client, model, version, address=change.address)
    # Marked before it is set: a crash in between leaves a marker naming no alias (ignored).
    mark_alias(client, model, alias, settings.project, present=True)
    retry.call(
        lambda: client.registered_models.set_alias(model, alias, version),
        what=f"setting alias {change.name} to version {version}",
    )
    approval = str(doc["approval"]) if doc.get("approval") else None
    records = {PROMOTION_TAG_PREFIX + alias: promotion_record(approval, settings)}
    if approval:
        records[APPROVAL_TAG_PREFIX + alias] = approval
    for key, value in records.items():
        set_version_tag(client, model, version, key, value)


ADAPTERS = (
    KindAdapter(KindName.REGISTERED_MODEL, normalize_model, apply_registered_model, list_models),
    KindAdapter(KindName.MODEL_ALIAS, normalize_alias, apply_model_alias),
)
READER = ModelReader
