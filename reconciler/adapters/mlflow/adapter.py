"""The Workspace over one MLflow model registry: read in the spec shape, apply one change.

This module imports MLflow (most of a second), so ``reconciler.adapters`` imports it only when
an mlflow target is opened; the client itself is built on first use.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from mlflow.exceptions import MlflowException

from reconciler.adapters.mlflow.connection import MlflowConnection
from reconciler.adapters.mlflow.failures import connection_failure, error_code, is_missing
from reconciler.adapters.mlflow.live_assets import alias_asset, int_version, model_asset
from reconciler.adapters.mlflow.model_changes import (
    ModelOps,
    check_model_name,
    no_owner,
    ops_from_diffs,
    ops_to_converge,
    split_alias_name,
)
from reconciler.adapters.mlflow.promotion import (
    approval_tag,
    promotion_record,
    promotion_tag,
)
from reconciler.model.changes import Action, Change
from reconciler.model.errors import WorkspaceError
from reconciler.model.live import (
    OWNER_TAG,
    LiveAsset,
    LiveState,
    ReadRequest,
    VersionInfo,
    Workspace,
)
from reconciler.model.resources import KindName
from reconciler.project import Project, Target
from reconciler.runtime.context import current_settings

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion, RegisteredModel

_READY = "READY"


class MlflowWorkspace(MlflowConnection, Workspace):
    """A Workspace over one MLflow model registry."""

    name: ClassVar[str] = "mlflow"
    capabilities: ClassVar[frozenset[KindName]] = frozenset(
        {KindName.REGISTERED_MODEL, KindName.MODEL_ALIAS}
    )
    page_size: int = 100
    """Models per ``search_registered_models`` page; later pages follow the page token."""

    @classmethod
    def for_target(
        cls, project: Project, target: Target, name: str | None = None
    ) -> MlflowWorkspace:
        """The adapter for a ``type: mlflow`` target of a loaded project (``name``: the
        target's name in messages, looked up when not given)."""
        if name is None:
            name = next((n for n, t in project.targets.items() if t is target), None)
        return cls(
            target.tracking_uri,
            project=project.project,
            root=project.root,
            target=name,
            connect_timeout=target.connect_timeout,
            read_timeout=target.read_timeout,
        )

    # -- read ---------------------------------------------------------------------------------

    def read(self, request: ReadRequest) -> LiveState:
        started = time.monotonic()
        self._calls = 0
        state = LiveState()
        if request.owned_by and self.project is None:
            self.project = request.owned_by
        if self._sqlite is not None and not self._sqlite.exists():
            # A registry that was never created holds nothing; reading must not create it.
            state.seconds = time.monotonic() - started
            return state
        try:
            self._read_into(state, request)
        except MlflowException as error:
            raise self.read_error(error, "read") from error
        state.api_calls = self._calls
        state.seconds = time.monotonic() - started
        return state

    def _read_into(self, state: LiveState, request: ReadRequest) -> None:
        wanted_models = [n for k, n in request.assets if k == KindName.REGISTERED_MODEL]
        wanted_aliases = [
            split_alias_name(n) for k, n in request.assets if k == KindName.MODEL_ALIAS
        ]
        owned_kinds = set(request.owned_kinds)
        found = self._owned_models(request.owned_by) if request.owned_by else {}
        owned = sorted(found)
        models: dict[str, RegisteredModel | None] = dict(found)
        wanted = [*wanted_models, *(m for m, _ in wanted_aliases)]
        models.update(self._map(self._get_model, [m for m in wanted if m not in models]))

        listed = owned if KindName.REGISTERED_MODEL in owned_kinds else []
        for name in [*wanted_models, *listed]:
            if (model := models.get(name)) is not None:
                asset = model_asset(model)
                state.assets[asset.address] = asset

        pointers: dict[tuple[str, str], tuple[RegisteredModel, int]] = {}
        pairs = list(wanted_aliases)
        if KindName.MODEL_ALIAS in owned_kinds:
            pairs += [(m, a) for m in owned if (rm := models.get(m)) for a in rm.aliases]
        for model_name, alias in pairs:
            model = models.get(model_name)
            if model is not None and alias in (model.aliases or {}):
                pointers[(model_name, alias)] = (model, int_version(model.aliases[alias]))

        asked = [(m, int(v)) for m, v in request.versions]
        versions = self._map(
            lambda key: self._get_version(*key),
            [*((m, v) for (m, _), (_, v) in pointers.items()), *asked],
        )
        for (model_name, alias), (model, number) in pointers.items():
            asset = alias_asset(model, alias, number, versions.get((model_name, number)))
            state.assets[asset.address] = asset
        for key in asked:
            if (version := versions.get(key)) is not None:
                state.versions[key] = VersionInfo(
                    model=key[0], version=key[1], status=str(version.status)
                )

    def list_names(self, kind: KindName) -> list[str]:
        """Every registered model name in the registry (for ``import``); aliases come with
        their models."""
        if kind is not KindName.REGISTERED_MODEL:
            raise WorkspaceError(f"an MLflow registry cannot list {kind.value} assets")
        try:
            return sorted(m.name for m in self._search(None))
        except MlflowException as error:
            raise self.read_error(error, "list the models of") from error

    def _get_model(self, name: str) -> RegisteredModel | None:
        try:
            return self._call(self.registry.get_registered_model, name)
        except MlflowException as error:
            if is_missing(error) or error_code(error) == "INVALID_PARAMETER_VALUE":
                return None  # an invalid name (say with '/') cannot exist either
            raise

    def _get_version(self, model: str, version: int) -> ModelVersion | None:
        try:
            return self._call(self.registry.get_model_version, model, str(version))
        except MlflowException as error:
            if is_missing(error):
                return None
            raise

    def _owned_models(self, project: str) -> dict[str, RegisteredModel]:
        """Registered models carrying our ownership tag for ``project``, by name."""
        quoted = project.replace("'", "\\'")
        try:
            found = self._search(f"tags.`{OWNER_TAG}` = '{quoted}'")
        except MlflowException as error:
            if connection_failure(error, self.registry_uri, self.target) is not None:
                raise  # a server that went away, not a store without tag filters
            # Databricks UC takes no filter and its search leaves tags out: get each model.
            names = [m.name for m in self._search(None)]
            found = [m for m in self._map(self._get_model, names).values() if m is not None]
        return {m.name: m for m in found if (m.tags or {}).get(OWNER_TAG) == project}

    def _search(self, filter_string: str | None) -> list[RegisteredModel]:
        results: list[RegisteredModel] = []
        token: str | None = None
        while True:
            page = self._call(
                self.registry.search_registered_models,
                filter_string=filter_string,
                max_results=self.page_size,
                page_token=token,
            )
            results.extend(page)
            token = page.token
            if not token:
                return results

    # -- apply --------------------------------------------------------------------------------

    def apply_change(self, change: Change, live: LiveAsset | None) -> None:
        kind = change.kind
        if kind not in self.capabilities:
            raise WorkspaceError(
                f"an MLflow registry cannot hold {kind} assets",
                address=change.address,
                hint="mlflow targets manage registered_models and their aliases only",
            )
        lock = self._write_lock or contextlib.nullcontext()
        try:
            with lock:
                if kind == KindName.REGISTERED_MODEL:
                    self._apply_model(change, live)
                else:
                    self._apply_alias(change)
        except MlflowException as error:
            what = f"{change.action} {change.address}"
            raise self.error_for(error, what, change.address) from error

    def _apply_model(self, change: Change, live: LiveAsset | None) -> None:
        desired = change.desired or {}
        name = check_model_name(str(desired.get("name", change.name)))
        if change.action == Action.CREATE:
            if desired.get("owner"):
                raise no_owner(change.address)
            self._create_model(name, desired, change.address)
        elif change.action in (Action.UPDATE, Action.ADOPT):
            self._update_model(name, change, live)
            if change.action == Action.ADOPT and self.project:
                self._call(self.registry.set_registered_model_tag, name, OWNER_TAG, self.project)
        elif change.action == Action.DELETE:
            self._delete_model(name, live, change.address)
        else:
            raise WorkspaceError(
                "an MLflow registered model has no field that needs a replace; "
                "refusing to delete its versions",
                address=change.address,
            )

    def _create_model(self, name: str, desired: Mapping[str, Any], address: str) -> None:
        tags = {str(k): str(v) for k, v in (desired.get("tags") or {}).items()}
        if self.project:
            tags[OWNER_TAG] = self.project
        try:
            self._call(
                self.registry.create_registered_model,
                name,
                tags=tags,
                description=desired.get("comment"),
            )
        except MlflowException as error:
            if error_code(error) != "RESOURCE_ALREADY_EXISTS":
                raise
            # A retried create whose first attempt landed: converge instead of failing.
            existing = self._get_model(name)
            owner = (existing.tags or {}).get(OWNER_TAG) if existing is not None else None
            if existing is None or self.project is None or owner != self.project:
                raise WorkspaceError(
                    f"registered model {name!r} already exists and is not marked as owned "
                    f"by project {self.project!r}",
                    address=address,
                    hint="run `reconciler import` to adopt it, or rename the model",
                ) from error
            live = model_asset(existing)
            self._sync_model(name, ops_to_converge(live.doc, desired))

    def _update_model(self, name: str, change: Change, live: LiveAsset | None) -> None:
        if change.diffs or change.action == Action.ADOPT:
            ops = ops_from_diffs(change)
        else:
            ops = ops_to_converge(live.doc if live is not None else {}, change.desired or {})
        self._sync_model(name, ops)

    def _sync_model(self, name: str, ops: ModelOps) -> None:
        if ops.comment is not None:
            # MLflow treats description=None as "unchanged"; "" clears it.
            self._call(self.registry.update_registered_model, name, description=ops.comment)
        for key, value in sorted(ops.set_tags.items()):
            self._call(self.registry.set_registered_model_tag, name, key, value)
        for key in sorted(ops.delete_tags):
            self._call(self.registry.delete_registered_model_tag, name, key)

    def _delete_model(self, name: str, live: LiveAsset | None, address: str) -> None:
        owner = live.owner if live is not None else None
        if owner is None or (self.project is not None and owner != self.project):
            raise WorkspaceError(
                f"refusing to delete registered model {name!r}: it is not marked as owned by "
                f"project {self.project!r} (tag {OWNER_TAG}={owner!r})",
                address=address,
            )
        self._call(self.registry.delete_registered_model, name)

    def _apply_alias(self, change: Change) -> None:
        model, alias = split_alias_name(change.name)
        if change.action == Action.DELETE:
            if self._get_model(model) is not None:  # a pruned model took its aliases along
                self._call(self.registry.delete_registered_model_alias, model, alias)
            return
        desired = change.desired or {}
        if change.action == Action.ADOPT and not change.diffs:
            return  # an alias is owned through its model's tag, which the model's adopt writes
        if "version" not in desired:
            raise WorkspaceError("alias change carries no version", address=change.address)
        number = int(desired["version"])
        self._check_version(model, number, change.address)
        self._call(self.registry.set_registered_model_alias, model, alias, str(number))
        self._record_promotion(model, alias, number, desired.get("approval"))

    def _check_version(self, model: str, number: int, address: str) -> None:
        version = self._get_version(model, number)
        if version is None:
            raise WorkspaceError(
                f"version {number} of registered model {model!r} does not exist",
                address=address,
                hint="register the version first (training pipelines create versions), "
                "or point the alias at an existing one",
            )
        if str(version.status) != _READY:
            raise WorkspaceError(
                f"version {number} of registered model {model!r} is {version.status}, not READY",
                address=address,
                hint="wait for the registration to finish, then apply again",
            )

    def _record_promotion(self, model: str, alias: str, number: int, approval: Any) -> None:
        """Leave an audit trail on the version: the approval and who promoted it when."""
        record = promotion_record(approval, self.project, current_settings().commit)
        tags = {promotion_tag(alias): record}
        if approval:
            tags[approval_tag(alias)] = str(approval)
        for key, value in sorted(tags.items()):
            self._call(self.registry.set_model_version_tag, model, str(number), key, value)
