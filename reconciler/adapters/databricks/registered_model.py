"""Registered models on Databricks (Unity Catalog): the wire mapping into the spec shape, the
reads (with their aliases and grants), the writes, and the markers that say which aliases a
project owns (the alias writes are in ``model_alias``, model tags and records in
``model_tags``).

Model tags (ownership, alias inventories, grant records) go through MLflow's Unity Catalog
route, which Databricks workspaces serve; the 2.1 ``RegisteredModelInfo`` documents no tags.
That route's model GET carries the description, every alias and the tags: one call reads a
model. The owner and the storage location are only on the 2.1 GET, read where a manifest sets
them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from databricks.sdk.errors import BadRequest, NotFound, NotImplemented, ResourceConflict
from databricks.sdk.errors.base import DatabricksError

from reconciler.adapters.databricks.grants import (
    FUNCTION,
    apply_grants,
    grants_task,
    records,
    with_grants,
)
from reconciler.adapters.databricks.intents import (
    Intent,
    clear_intent,
    intent_owner,
    list_intents,
    record_intent,
)
from reconciler.adapters.databricks.markers import owner_of, wire_tags
from reconciler.adapters.databricks.model_tags import (
    MODEL_TAGS,
    alias_owner,
    model_record_holder,
    model_tags,
    patch_model_tags,
)
from reconciler.adapters.databricks.model_versions import (
    MLFLOW_UC,
    UC_MODELS,
    approval_tag,
    version_tags,
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
from reconciler.kinds.grants import GRANTED_BY, GRANTS
from reconciler.model.changes import Action, Change
from reconciler.model.live import OWNER_TAG, ExtraRead, Held, LiveAsset
from reconciler.model.resources import KindName, address_of
from reconciler.runtime import retry
from reconciler.runtime.settings import ApplySettings

MODEL_CREATE = f"{MLFLOW_UC}/registered-models/create"
"""Creates a model with its tags (``{name, description, tags}``), as MLflow's client does."""
UC_ONLY = ("owner", "storage_location", "created_at")
"""What only the 2.1 GET carries, copied onto the model where a manifest needs it."""


# --- wire mapping -----------------------------------------------------------------------


def normalize_model(raw: Mapping[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": raw.get("full_name") or raw.get("name")}
    if raw.get("comment"):
        doc["comment"] = raw["comment"]
    if raw.get("owner"):
        doc["owner"] = raw["owner"]
    doc["tags"] = tags_to_dict(raw.get("tags"))
    if raw.get("storage_location"):
        doc["storage_location"] = raw["storage_location"]
    return with_grants(doc, raw)


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


# --- reads ------------------------------------------------------------------------------


class ModelReader(KindReader):
    """Models by name (those the manifests declare, and the models of declared aliases), with
    their aliases and tags in one call each; the owner, storage location, grants and approvals
    only where a manifest names them; and (prune) the models of the same schemas that carry
    this project's marks.

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
        self.grants: dict[str, list[dict[str, Any]]] = {}
        self.intents: list[Intent] = []
        self.listed: list[str] = []

    def round(self, number: int) -> list[Task]:
        request = self.run.request
        if number == 0:
            tasks = [self._task_model(m) for m in sorted(self.names)]
            wanted = request.extra_names(ExtraRead.GRANTS, KindName.REGISTERED_MODEL)
            tasks += [grants_task(self.run, FUNCTION, m, self.grants) for m in wanted]
            if self.run.owns(KindName.REGISTERED_MODEL, KindName.MODEL_ALIAS):
                schemas = sorted({m.rsplit(".", 1)[0] for m in self.names if m.count(".") == 2})
                tasks += [self._task_list(schema) for schema in schemas]
            return tasks
        if number == 1:
            extra = sorted(set(self.listed) - self.names)
            located = request.extra_names(ExtraRead.LOCATION, KindName.REGISTERED_MODEL)
            uc = set(request.extra_names(ExtraRead.OWNER, KindName.REGISTERED_MODEL))
            uc |= set(located)
            tasks = (
                [self._task_model(m) for m in extra]
                + [self._task_uc(m) for m in sorted(uc) if m in self.models]
                + self._approval_tasks()
            )
            if any(not owner_of(self._tags(m)) for m in located if m in self.models):
                tasks.append(self._list_intents)  # a create that could not carry its marker
            return tasks
        return []

    def _tags(self, name: str) -> dict[str, str]:
        return raw_tags((self.models.get(name) or {}).get("tags"))

    def _list_intents(self) -> None:
        with translated("create intents"):
            found = list_intents(self.client)
        with self.run.lock:
            self.intents = found

    def _owner(self, name: str, raw: Mapping[str, Any]) -> tuple[str | None, bool]:
        """The owner, and whether it comes from the model's own marker (not an intent)."""
        owner = owner_of(self._tags(name))
        if owner:
            return owner, True
        created = raw.get("created_at")
        address = address_of(KindName.REGISTERED_MODEL, name)
        by_intent = intent_owner(self.intents, address, int(created) if created else None)
        return by_intent, by_intent is None

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

    def _task_uc(self, name: str) -> Task:
        """The 2.1 GET, for what only it carries (``UC_ONLY``)."""

        def task() -> None:
            found = self._read_uc_model(name)
            if found is not None:
                with self.run.lock:
                    for key in UC_ONLY:
                        if found.get(key):
                            self.models[name][key] = found[key]

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
            tags = self._tags(name)
            full = dict(raw)
            if name in self.grants:
                full[GRANTS] = self.grants[name]
                full[GRANTED_BY] = records(tags)
            holds = tuple(
                Held(address_of(KindName.MODEL_ALIAS, f"{name}@{a}"), alias_owner(tags, a))
                for a in sorted(str(x.get("alias_name")) for x in raw.get("aliases") or [])
            )
            owner, marked = self._owner(name, raw)
            self.run.add(KindName.REGISTERED_MODEL, name, full, owner, marked=marked, holds=holds)
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


def _create_located(
    client: WorkspaceClient, change: Change, doc: Mapping[str, Any], project: str
) -> bool:
    """A model with a storage location: only the 2.1 create takes one, and it takes no tags,
    so an intent record covers the instant before the marker (``intents``)."""
    catalog, schema, name = str(doc["name"]).split(".", 2)
    record_intent(client, change.address, project)
    try:
        retry.call(
            lambda: client.registered_models.create(
                catalog_name=catalog,
                schema_name=schema,
                name=name,
                comment=doc.get("comment"),
                storage_location=doc["storage_location"],
            ),
            what=f"creating registered model {doc['name']}",
        )
    except ResourceConflict:
        return False
    return True


def apply_registered_model(
    client: WorkspaceClient, change: Change, live: LiveAsset | None, settings: ApplySettings
) -> None:
    full_name = change.name
    if change.action in (Action.DELETE, Action.REPLACE):
        ignore_missing(
            lambda: client.registered_models.delete(full_name),
            what=f"deleting registered model {full_name}",
        )
        if change.action is Action.DELETE:
            return
    doc = desired_of(change)
    provenance = {OWNER_TAG: settings.project} if settings.project else {}
    created = False
    located = bool(doc.get("storage_location"))
    if change.action in (Action.CREATE, Action.REPLACE):
        created = (
            _create_located(client, change, doc, settings.project)
            if located
            else _create_model(client, doc, provenance)
        )
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
    if (located and created) or (live is not None and not live.marked):
        clear_intent(client, change.address, settings.project)  # the marker is on it now
    holder = model_record_holder(client, full_name)
    apply_grants(client, change, doc, (FUNCTION, full_name), settings.project, holder)


ADAPTERS = (
    KindAdapter(KindName.REGISTERED_MODEL, normalize_model, apply_registered_model, list_models),
)
READER = ModelReader
