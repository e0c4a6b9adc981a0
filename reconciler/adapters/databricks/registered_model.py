"""Registered models and their aliases on Databricks (Unity Catalog): the wire mapping into the
spec shape, the reads, the writes, and the markers that say which aliases a project owns.

Model tags (ownership, alias inventories) go through MLflow's Unity Catalog route, which
Databricks workspaces serve; the 2.1 ``RegisteredModelInfo`` documents no tags. That route's
model GET carries the description, every alias and the tags: one call reads a model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from databricks.sdk.errors import BadRequest, NotFound, NotImplemented, ResourceConflict
from databricks.sdk.errors.base import DatabricksError

from reconciler.adapters.databricks.markers import holder_lock, owner_of, tag_map, wire_tags
from reconciler.adapters.databricks.model_versions import (
    MLFLOW_UC,
    PROMOTION_TAG_PREFIX,
    approval_tag,
    promotion_record,
    set_version_tag,
    version_tags,
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
from reconciler.adapters.databricks.sdk import WorkspaceClient
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
from reconciler.model.live import OWNER_TAG, ExtraRead, Held, LiveAsset
from reconciler.model.resources import KindName, address_of
from reconciler.runtime import retry
from reconciler.runtime.settings import ApplySettings

UC_MODELS = "/api/2.1/unity-catalog/models"
MODEL_TAGS = f"{MLFLOW_UC}/registered-models/get"
"""One model with its description, aliases and tags (the plan's one call per model)."""
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


def model_from_mlflow(answer: Mapping[str, Any]) -> dict[str, Any]:
    """MLflow's Unity Catalog registered model (``{"registered_model": {name, description,
    aliases: [{alias, version}], tags}}``) in the shape of the 2.1 ``RegisteredModelInfo``
    that the mapping and import read: ``full_name``, ``comment``, ``aliases: [{alias_name,
    version_num}]``, plus ``tags``. MLflow's description is the Unity Catalog comment."""
    model = answer.get("registered_model") or {}
    full_name = str(model.get("name") or "")
    out: dict[str, Any] = {"full_name": full_name, "name": full_name.rsplit(".", 1)[-1]}
    if model.get("description"):
        out["comment"] = model["description"]
    out["aliases"] = [
        {"alias_name": a.get("alias"), "version_num": as_int(a.get("version"))}
        for a in model.get("aliases") or []
        if a.get("alias")
    ]
    out["tags"] = [{"key": k, "value": v} for k, v in raw_tags(model.get("tags")).items()]
    return out


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
    """Models by name (those the manifests declare, and the models of declared aliases), with
    their aliases and tags in one call each; the owner and approvals only where a manifest
    names them; and (prune) the models of the same schemas that carry this project's marks.

    The one call is MLflow's Unity Catalog route: the 2.1 ``GET models/{name}`` carries the
    aliases (``include_aliases``) and the owner but its documented ``RegisteredModelInfo`` has
    no tags, which ownership needs. Where that route is not served, the 2.1 GET stands in."""

    kinds = frozenset({KindName.REGISTERED_MODEL, KindName.MODEL_ALIAS})

    def __init__(self, run: ReadRun) -> None:
        super().__init__(run)
        wanted = run.wanted
        self.names = wanted[KindName.REGISTERED_MODEL] | {
            a.partition("@")[0] for a in wanted[KindName.MODEL_ALIAS]
        }
        self.models: dict[str, dict[str, Any]] = {}
        self.approvals: dict[str, str] = {}
        self.listed: list[str] = []

    def round(self, number: int) -> list[Task]:
        if number == 0:
            tasks = [self._task_model(m) for m in sorted(self.names)]
            if self.run.owns(KindName.REGISTERED_MODEL, KindName.MODEL_ALIAS):
                schemas = sorted({m.rsplit(".", 1)[0] for m in self.names if m.count(".") == 2})
                tasks += [self._task_list(schema) for schema in schemas]
            return tasks
        if number == 1:
            extra = sorted(set(self.listed) - self.names)
            owners = [m for m in self.run.request.extra_for(ExtraRead.OWNER) if m in self.models]
            return (
                [self._task_model(m) for m in extra]
                + [self._task_owner(m) for m in sorted(owners)]
                + self._approval_tasks()
            )
        return []

    def _task_model(self, name: str) -> Task:
        def task() -> None:
            found = self._read_model(name)
            if found is not None:
                with self.run.lock:
                    self.models[name] = found

        return task

    def _read_model(self, name: str) -> dict[str, Any] | None:
        with translated(f"registered model {name}"):
            try:
                return model_from_mlflow(
                    self.client.api_client.do("GET", MODEL_TAGS, query={"name": name})
                )
            except NotFound as exc:
                if not _route_missing(exc):
                    return None
            except (BadRequest, NotImplemented):
                pass
        return self._read_uc_model(name)

    def _read_uc_model(self, name: str) -> dict[str, Any] | None:
        """The 2.1 model with its aliases (and its tags, when the answer carries them)."""
        found = get_or_none(
            f"registered model {name}",
            lambda: self.client.api_client.do(
                "GET", f"{UC_MODELS}/{name}", query={"include_aliases": "true"}
            ),
        )
        return dict(found) if isinstance(found, dict) else None

    def _task_owner(self, name: str) -> Task:
        def task() -> None:
            found = self._read_uc_model(name)
            if found is not None and found.get("owner"):
                with self.run.lock:
                    self.models[name]["owner"] = found["owner"]

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
        for name in sorted(set(self.run.request.extra_for(ExtraRead.APPROVAL))):
            model, _, alias = name.rpartition("@")
            for entry in (self.models.get(model) or {}).get("aliases") or []:
                if entry.get("alias_name") == alias and entry.get("version_num") is not None:
                    tasks.append(self._task_approval(model, alias, int(entry["version_num"])))
        return tasks

    def _task_approval(self, model: str, alias: str, version: int) -> Task:
        def task() -> None:
            approval = version_tags(self.client, model, version).get(approval_tag(alias))
            if approval:
                with self.run.lock:
                    self.approvals[f"{model}@{alias}"] = approval

        return task

    def assemble(self) -> None:
        for name, raw in self.models.items():
            tags = raw_tags(raw.get("tags"))
            holds = tuple(
                Held(address_of(KindName.MODEL_ALIAS, f"{name}@{a}"), alias_owner(tags, a))
                for a in sorted(str(x.get("alias_name")) for x in raw.get("aliases") or [])
            )
            self.run.add(KindName.REGISTERED_MODEL, name, raw, owner_of(tags), holds=holds)
            for alias in raw.get("aliases") or []:
                alias_name = str(alias.get("alias_name"))
                alias_raw = {**alias, "model": name}
                if approval := self.approvals.get(f"{name}@{alias_name}"):
                    alias_raw["approval"] = approval
                owner = alias_owner(tags, alias_name)
                self.run.add(KindName.MODEL_ALIAS, f"{name}@{alias_name}", alias_raw, owner)


def _route_missing(error: NotFound) -> bool:
    """A 404 for the path itself (a workspace without the route), not for the model."""
    return getattr(error, "error_code", None) == "ENDPOINT_NOT_FOUND"


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
        records[approval_tag(alias)] = approval
    for key, value in records.items():
        set_version_tag(client, model, version, key, value)


ADAPTERS = (
    KindAdapter(KindName.REGISTERED_MODEL, normalize_model, apply_registered_model, list_models),
    KindAdapter(KindName.MODEL_ALIAS, normalize_alias, apply_model_alias),
)
READER = ModelReader
