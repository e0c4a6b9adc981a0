"""Model versions in an MLflow registry, registered the way a training pipeline does.

``reconciler sandbox seed`` and ``register-version`` on an ``mlflow`` target play the pipeline
there: the model is created when missing (not marked as owned by the project, as
``mlflow.register_model`` leaves it), and each version points at one placeholder run of the
experiment ``reconciler-sandbox-seed`` (``runs:/<run>/model``): a tracking server takes no
local path as a version's source unless a run holds it. The versions hold no model files, so
they can be aliased and served in plans but not loaded.

Unity Catalog (``databricks-uc``) copies a version's files when it registers it, so placeholder
versions are impossible there: those targets are refused.
"""

from __future__ import annotations

import contextlib
import io
import logging

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from reconciler.adapters.mlflow.adapter import MlflowWorkspace
from reconciler.adapters.mlflow.failures import error_code, is_missing
from reconciler.adapters.mlflow.model_changes import check_model_name
from reconciler.adapters.mlflow.uris import display_uri
from reconciler.model.errors import ReconcilerError, WorkspaceError

SEED_EXPERIMENT = "reconciler-sandbox-seed"
PLACEHOLDER_NOTE = "placeholder registered by `reconciler sandbox`: no model files"
_MAX_NEW = 1000  # versions one seed may add to one model: a typo'd version number, not a plan


class MlflowVersions:
    """Registers versions in the registry of one MLflow target."""

    def __init__(self, workspace: MlflowWorkspace) -> None:
        if workspace.registry_uri.startswith("databricks"):
            where = f"target {workspace.target!r}" if workspace.target else "this target"
            raise ReconcilerError(
                f"cannot register placeholder model versions in {workspace.registry_uri} "
                f"({where}): Unity Catalog copies each version's model files when it registers "
                "it",
                hint="let the training pipeline register the versions (mlflow.register_model), "
                "or seed a `sandbox` target",
            )
        self.workspace = workspace
        self._run_id: str | None = None
        # MLflow logs "Waiting up to 300 seconds for model version to finish creation" per call.
        logging.getLogger("mlflow.store.model_registry.abstract_store").setLevel(logging.WARNING)

    @property
    def where(self) -> str:
        """The registry as messages name it (target and URI, no credentials)."""
        uri = display_uri(self.workspace.registry_uri)
        return f"{uri} (target {self.workspace.target!r})" if self.workspace.target else uri

    @property
    def client(self) -> MlflowClient:
        return self.workspace.registry

    def ensure_up_to(self, model: str, version: int) -> list[int]:
        """Register versions of ``model`` until ``version`` exists; the numbers added."""
        self._ensure_model(model)
        if self._exists(model, version):
            return []
        missing = version - self.highest(model, below=version)
        if missing > _MAX_NEW:
            raise ReconcilerError(
                f"{model}: version {version} would need {missing} new versions",
                hint="check the version numbers in the manifests",
            )
        return [self.register(model) for _ in range(max(0, missing))]

    def register(
        self, model: str, *, source: str | None = None, description: str | None = None
    ) -> int:
        """Register the next version of ``model`` (creating the model); its number."""
        self._ensure_model(model)
        run_id = None
        if source is None:
            run_id = self._placeholder_run()
            source = f"runs:/{run_id}/model"
        try:
            created = self.client.create_model_version(
                model,
                source=source,
                run_id=run_id,
                description=description if description is not None else PLACEHOLDER_NOTE,
            )
        except MlflowException as error:
            raise self._error(error, f"register a version of {model!r}") from error
        return int(created.version)

    def highest(self, model: str, below: int) -> int:
        """The highest version number of ``model`` under ``below`` (0 when it has none)."""
        if "'" in model and '"' in model:  # no filter can quote it: look version by version
            return next((v for v in range(below - 1, 0, -1) if self._exists(model, v)), 0)
        quote = '"' if "'" in model else "'"
        highest, token = 0, None
        try:
            while True:
                page = self.client.search_model_versions(
                    filter_string=f"name = {quote}{model}{quote}", page_token=token
                )
                highest = max([highest, *(int(v.version) for v in page)])
                token = page.token
                if not token:
                    return highest
        except MlflowException as error:
            raise self._error(error, f"list the versions of {model!r}") from error

    def _exists(self, model: str, version: int) -> bool:
        try:
            self.client.get_model_version(model, str(version))
        except MlflowException as error:
            if is_missing(error):
                return False
            raise self._error(error, f"read version {version} of {model!r}") from error
        return True

    def finish(self) -> None:
        """Mark the placeholder run finished, if one was started (best effort)."""
        if self._run_id is not None:
            # Against a server MLflow prints "View run ... at: <url>" lines on stdout here.
            with (
                contextlib.suppress(MlflowException, WorkspaceError),
                contextlib.redirect_stdout(io.StringIO()),
            ):
                self.client.set_terminated(self._run_id)

    def _ensure_model(self, model: str) -> None:
        check_model_name(model)
        try:
            self.client.get_registered_model(model)
        except MlflowException as error:
            if not is_missing(error):
                raise self._error(error, f"read registered model {model!r}") from error
            try:
                self.client.create_registered_model(model)
            except MlflowException as again:
                if error_code(again) != "RESOURCE_ALREADY_EXISTS":  # created concurrently
                    raise self._error(again, f"create registered model {model!r}") from again

    def _placeholder_run(self) -> str:
        if self._run_id is None:
            try:
                found = self.client.get_experiment_by_name(SEED_EXPERIMENT)
                experiment = (
                    found.experiment_id
                    if found is not None
                    else self.client.create_experiment(SEED_EXPERIMENT)
                )
                run = self.client.create_run(
                    experiment, run_name="placeholder", tags={"reconciler.placeholder": "true"}
                )
            except MlflowException as error:
                raise self._error(error, "create the placeholder run") from error
            self._run_id = run.info.run_id
        return self._run_id

    def _error(self, error: Exception, what: str) -> WorkspaceError:
        return self.workspace.error_for(error, what)
