"""The Databricks adapter (read side): the same code for real workspaces and the sandbox.

It reads only what a ReadRequest names, plus (for prune) what the project owns. List calls are
used where their items carry the fields (Vector Search endpoints, with their tags); otherwise
concurrent GETs (serving list items are summaries, index list items have no spec, models need
``include_aliases``). Writes are delegated to ``databricks_apply``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import (
    BadRequest,
    NotFound,
    NotImplemented,
    PermissionDenied,
)
from databricks.sdk.errors.base import DatabricksError

from reconciler.kinds.diffing import raw_tags
from reconciler.kinds.rules import rules_for
from reconciler.model.changes import Change
from reconciler.model.errors import WorkspaceError
from reconciler.model.live import (
    LiveAsset,
    LiveState,
    ReadRequest,
    VersionInfo,
    Workspace,
)
from reconciler.model.resources import KindName, address_of
from reconciler.workspace import ownership
from reconciler.workspace.client import session_of
from reconciler.workspace.concurrency import AdaptiveLimiter, CallMeter, Pool

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_CONCURRENCY = 16
MODEL_TAGS = "/api/2.0/mlflow/unity-catalog/registered-models/get"
VERSION_TAGS = "/api/2.0/mlflow/unity-catalog/model-versions/get"
"""Version tags (approval records) come from MLflow's Unity Catalog route, which Databricks
workspaces serve; the 2.1 ``ModelVersionInfo`` has no tags."""
_PRUNE_MODEL_KINDS = {KindName.REGISTERED_MODEL, KindName.MODEL_ALIAS}


class DatabricksWorkspace(Workspace):
    name = "databricks"
    capabilities = frozenset(KindName)

    def __init__(
        self,
        client: WorkspaceClient,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.client = client
        self.limiter = AdaptiveLimiter(concurrency)
        self.meter = CallMeter(self.limiter)
        self.meter.attach(session_of(client))
        self.pool = Pool(self.limiter, concurrency)
        self._on_close = on_close

    def read(self, request: ReadRequest) -> LiveState:
        started, calls = time.perf_counter(), self.meter.calls
        live = _Read(self, request).run()
        live.api_calls = self.meter.calls - calls
        live.seconds = time.perf_counter() - started
        log.debug("read %d assets with %d calls", len(live.assets), live.api_calls)
        return live

    def apply_change(self, change: Change, live: LiveAsset | None) -> None:
        from reconciler.workspace.databricks_apply import apply_change

        apply_change(self.client, change, live)

    def list_names(self, kind: KindName) -> list[str]:
        from reconciler.importer.listing import list_names

        return list_names(self.client, kind)

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()
            self._on_close = None


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """SDK errors become one WorkspaceError naming what was being read."""
    try:
        yield
    except TimeoutError as exc:
        cause = exc.__cause__
        raise WorkspaceError(
            f"reading {what}: the workspace kept refusing ({cause or exc}); gave up retrying",
            hint="the workspace is throttling or unavailable; try again later",
        ) from None
    except PermissionDenied as exc:
        raise WorkspaceError(
            f"reading {what}: permission denied: {str(exc).split('. Config:')[0]}",
            hint="the identity used needs read access to this asset",
        ) from None
    except DatabricksError as exc:
        raise WorkspaceError(f"reading {what}: {str(exc).split('. Config:')[0]}") from None


def _get_or_none(what: str, fn: Callable[[], T]) -> T | None:
    with _translated(what):
        try:
            return fn()
        except NotFound:
            return None


class _Read:
    """One read: collects raw objects under a lock, then folds them into LiveAssets."""

    def __init__(self, ws: DatabricksWorkspace, request: ReadRequest) -> None:
        self.ws = ws
        self.client = ws.client
        self.request = request
        self.project = request.owned_by
        self.owned_kinds = set(request.owned_kinds) if self.project else set()
        self.lock = threading.Lock()
        self.wanted: dict[KindName, set[str]] = {k: set() for k in KindName}
        for kind, name in request.assets:
            self.wanted[KindName(kind)].add(name)
        self.models: dict[str, dict[str, Any]] = {}
        self.model_tags: dict[str, dict[str, str]] = {}
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.vs_endpoints: dict[str, dict[str, Any]] | None = None
        self.indexes: dict[str, dict[str, Any]] = {}
        self.approvals: dict[str, str] = {}
        self.live = LiveState()

    # --- orchestration -------------------------------------------------------------------

    def run(self) -> LiveState:
        w = self.wanted
        models = w[KindName.REGISTERED_MODEL] | {
            a.partition("@")[0] for a in w[KindName.MODEL_ALIAS]
        }
        endpoints = w[KindName.SERVING_ENDPOINT] | w[KindName.QUOTA]
        need_vs = bool(w[KindName.VECTOR_SEARCH_ENDPOINT] or w[KindName.VECTOR_INDEX]) or bool(
            self.owned_kinds & {KindName.VECTOR_SEARCH_ENDPOINT, KindName.VECTOR_INDEX}
        )
        first: list[Callable[[], None]] = []
        first += [self._task_model(m) for m in sorted(models)]
        first += [self._task_model_tags(m) for m in sorted(models)]
        first += [self._task_endpoint(e) for e in sorted(endpoints)]
        first += [self._task_index(i) for i in sorted(w[KindName.VECTOR_INDEX])]
        first += self._version_tasks()
        owned_endpoints: list[str] = []
        listed_models: list[str] = []
        if need_vs:
            first.append(self._list_vs_endpoints)
        if self.owned_kinds & {KindName.SERVING_ENDPOINT, KindName.QUOTA}:
            first.append(lambda: owned_endpoints.extend(self._owned_serving()))
        if self.owned_kinds & _PRUNE_MODEL_KINDS:
            schemas = sorted({m.rsplit(".", 1)[0] for m in models if m.count(".") == 2})
            for schema in schemas:
                first.append(self._task_list_models(schema, listed_models))
        self.ws.pool.run(first)

        second: list[Callable[[], None]] = []
        extra_models = sorted(set(listed_models) - set(self.model_tags))
        second += [self._task_model_tags(m) for m in extra_models]
        second += [self._task_endpoint(e) for e in sorted(set(owned_endpoints) - set(endpoints))]
        second += [self._task_index(i) for i in self._owned_indexes()]
        second += [self._task_permissions(e) for e in self.request.permissions_for]
        second += self._approval_tasks()
        self.ws.pool.run(second)

        owned_models = [m for m in extra_models if self._model_is_ours(m)]
        self.ws.pool.run([self._task_model(m) for m in owned_models if m not in self.models])
        self._assemble()
        return self.live

    # --- tasks ---------------------------------------------------------------------------

    def _task_model(self, name: str) -> Callable[[], None]:
        def task() -> None:
            found = _get_or_none(
                f"registered model {name}",
                lambda: self.client.registered_models.get(name, include_aliases=True),
            )
            if found is not None:
                with self.lock:
                    self.models[name] = found.as_dict()

        return task

    def _task_model_tags(self, name: str) -> Callable[[], None]:
        """Model tags come from MLflow's Unity Catalog route (the 2.1 model has no tags)."""

        def task() -> None:
            with _translated(f"tags of registered model {name}"):
                try:
                    answer = self.client.api_client.do("GET", MODEL_TAGS, query={"name": name})
                except (NotFound, BadRequest, NotImplemented):
                    answer = {}
            model = answer.get("registered_model") if isinstance(answer, dict) else None
            tags = raw_tags(model.get("tags") if isinstance(model, dict) else None)
            with self.lock:
                self.model_tags[name] = tags

        return task

    def _task_endpoint(self, name: str) -> Callable[[], None]:
        def task() -> None:
            found = _get_or_none(
                f"serving endpoint {name}", lambda: self.client.serving_endpoints.get(name)
            )
            if found is not None:
                with self.lock:
                    self.endpoints[name] = found.as_dict()

        return task

    def _task_permissions(self, name: str) -> Callable[[], None]:
        def task() -> None:
            raw = self.endpoints.get(name)
            if raw is None or not raw.get("id"):
                return
            found = _get_or_none(
                f"permissions of serving endpoint {name}",
                lambda: self.client.serving_endpoints.get_permissions(raw["id"]),
            )
            acl = found.as_dict().get("access_control_list", []) if found is not None else []
            with self.lock:
                raw["permissions"] = acl

        return task

    def _task_index(self, name: str) -> Callable[[], None]:
        def task() -> None:
            found = _get_or_none(
                f"vector index {name}", lambda: self.client.vector_search_indexes.get_index(name)
            )
            if found is not None:
                with self.lock:
                    self.indexes[name] = found.as_dict()

        return task

    def _approval_tasks(self) -> list[Callable[[], None]]:
        """One version GET per alias whose manifest sets an approval, for the version the
        alias points to now."""
        tasks = []
        for name in sorted(set(self.request.approvals_for)):
            model, _, alias = name.rpartition("@")
            for entry in (self.models.get(model) or {}).get("aliases") or []:
                if entry.get("alias_name") == alias and entry.get("version_num") is not None:
                    tasks.append(self._task_approval(model, alias, int(entry["version_num"])))
        return tasks

    def _task_approval(self, model: str, alias: str, version: int) -> Callable[[], None]:
        def task() -> None:
            query = {"name": model, "version": str(version)}
            with _translated(f"tags of version {version} of model {model}"):
                try:
                    answer = self.client.api_client.do("GET", VERSION_TAGS, query=query)
                except (NotFound, BadRequest, NotImplemented):
                    answer = {}
            found = answer.get("model_version") if isinstance(answer, dict) else None
            tags = raw_tags(found.get("tags") if isinstance(found, dict) else None)
            approval = tags.get(ownership.approval_tag(alias))
            if approval:
                with self.lock:
                    self.approvals[f"{model}@{alias}"] = approval

        return task

    def _version_tasks(self) -> list[Callable[[], None]]:
        """One GET for a lone version; one list call for a model that needs several."""
        by_model: dict[str, set[int]] = {}
        for model, version in self.request.versions:
            by_model.setdefault(model, set()).add(int(version))
        tasks = []
        for model in sorted(by_model):
            versions = by_model[model]
            if len(versions) == 1:
                tasks.append(self._task_version(model, next(iter(versions))))
            else:
                tasks.append(self._task_versions(model, versions))
        return tasks

    def _task_versions(self, model: str, versions: set[int]) -> Callable[[], None]:
        def task() -> None:
            with _translated(f"versions of model {model}"):
                try:
                    listed = list(self.client.model_versions.list(model, max_results=1000))
                except NotFound:
                    listed = []
            found = {}
            for item in listed:
                if item.version is not None and int(item.version) in versions:
                    status = item.status.value if item.status is not None else "UNKNOWN"
                    found[(model, int(item.version))] = VersionInfo(
                        model, int(item.version), status
                    )
            with self.lock:
                self.live.versions.update(found)

        return task

    def _task_version(self, model: str, version: int) -> Callable[[], None]:
        def task() -> None:
            found = _get_or_none(
                f"version {version} of model {model}",
                lambda: self.client.model_versions.get(model, int(version)),
            )
            if found is None:
                return
            status = found.status.value if found.status is not None else "UNKNOWN"
            info = VersionInfo(model=model, version=int(version), status=status)
            with self.lock:
                self.live.versions[(model, int(version))] = info

        return task

    def _list_vs_endpoints(self) -> None:
        with _translated("vector search endpoints"):
            found = {
                e.name: e.as_dict() for e in self.client.vector_search_endpoints.list_endpoints()
            }
        with self.lock:
            self.vs_endpoints = {str(k): v for k, v in found.items() if k}

    def _owned_serving(self) -> list[str]:
        with _translated("serving endpoints"):
            summaries = self.client.serving_endpoints.list()
        names = []
        for summary in summaries:
            tags = raw_tags(summary.as_dict().get("tags"))
            if self.project in (ownership.owner_of(tags), ownership.quota_owner(tags)):
                names.append(str(summary.name))
        return names

    def _task_list_models(self, schema: str, out: list[str]) -> Callable[[], None]:
        catalog, _, schema_name = schema.partition(".")

        def task() -> None:
            with _translated(f"registered models in {schema}"):
                try:
                    names = [
                        str(m.full_name)
                        for m in self.client.registered_models.list(
                            catalog_name=catalog, schema_name=schema_name
                        )
                    ]
                except NotFound:
                    names = []
            with self.lock:
                out.extend(names)

        return task

    def _owned_indexes(self) -> list[str]:
        if self.project is None or KindName.VECTOR_INDEX not in self.owned_kinds:
            return []
        owned = set()
        for raw in (self.vs_endpoints or {}).values():
            owned.update(ownership.indexes_owned(raw_tags(raw.get("custom_tags")), self.project))
        return sorted(owned - set(self.indexes) - self.wanted[KindName.VECTOR_INDEX])

    def _model_is_ours(self, name: str) -> bool:
        tags = self.model_tags.get(name, {})
        if ownership.owner_of(tags) == self.project:
            return True
        key = ownership.alias_inventory_key(self.project or "")
        return KindName.MODEL_ALIAS in self.owned_kinds and bool(tags.get(key))

    # --- folding into live assets ----------------------------------------------------------

    def _add(self, kind: KindName, name: str, raw: Mapping[str, Any], owner: str | None) -> None:
        wanted = name in self.wanted[kind]
        owned = self.project is not None and owner == self.project and kind in self.owned_kinds
        if not (wanted or owned):
            return
        doc = rules_for(kind).normalize(raw)
        asset = LiveAsset(kind=kind, name=name, doc=doc, raw=raw, owner=owner)
        self.live.assets[address_of(kind, name)] = asset

    def _assemble(self) -> None:
        for name, raw in self.models.items():
            tags = self.model_tags.get(name, {})
            full = {**raw, "tags": [{"key": k, "value": v} for k, v in tags.items()]}
            self._add(KindName.REGISTERED_MODEL, name, full, ownership.owner_of(tags))
            for alias in raw.get("aliases") or []:
                alias_name = str(alias.get("alias_name"))
                alias_raw = {**alias, "model": name}
                if approval := self.approvals.get(f"{name}@{alias_name}"):
                    alias_raw["approval"] = approval
                owner = ownership.alias_owner(tags, alias_name)
                self._add(KindName.MODEL_ALIAS, f"{name}@{alias_name}", alias_raw, owner)
        for name, raw in self.endpoints.items():
            tags = raw_tags(raw.get("tags"))
            self._add(KindName.SERVING_ENDPOINT, name, raw, ownership.owner_of(tags))
            self._add(KindName.QUOTA, name, raw, ownership.quota_owner(tags))
        vs = self.vs_endpoints or {}
        for name, raw in vs.items():
            tags = raw_tags(raw.get("custom_tags"))
            self._add(KindName.VECTOR_SEARCH_ENDPOINT, name, raw, ownership.owner_of(tags))
        for name, raw in self.indexes.items():
            endpoint = vs.get(str(raw.get("endpoint_name")), {})
            owner = ownership.index_owner(raw_tags(endpoint.get("custom_tags")), name)
            self._add(KindName.VECTOR_INDEX, name, raw, owner)
