"""The part of databricks-sdk's ``WorkspaceClient`` the adapter uses, without importing the rest.

``WorkspaceClient`` is built from one ``ApiClient`` (auth, retries, the HTTP session) and one
object per service API. This class is built the same way (a copy of the config, one
``ApiClient``, the same service classes on it) for the services the adapter calls, each on
first use, so a plan loads the two or three service modules it calls instead of fifty
(``reconciler.adapters.sdk_import``).
Any other service is taken from a real ``WorkspaceClient`` the first time it is asked for
(which imports the whole SDK then) and bound to this client's ``ApiClient``, so every call
goes through the same session, meter and retries.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from databricks.sdk.config import Config
from databricks.sdk.core import ApiClient

if TYPE_CHECKING:
    from databricks.sdk.mixins.open_ai_client import ServingEndpointsExt
    from databricks.sdk.mixins.workspace import WorkspaceExt
    from databricks.sdk.service.catalog import ModelVersionsAPI, RegisteredModelsAPI
    from databricks.sdk.service.vectorsearch import (
        VectorSearchEndpointsAPI,
        VectorSearchIndexesAPI,
    )

T = TypeVar("T")


class WorkspaceClient:
    """Duck-type compatible with ``databricks.sdk.WorkspaceClient`` for what the adapter uses:
    the same classes on the same attributes, each built (and its module imported) on first
    use, since each service module is a tenth of a second of dataclasses and a plan needs few.
    """

    def __init__(self, *, config: Config) -> None:
        copy: Callable[[], Config] = config.copy  # as WorkspaceClient does
        self._config = copy()
        self.api_client = ApiClient(self._config)
        self._full: Any = None

    @property
    def config(self) -> Config:
        return self._config

    @cached_property
    def registered_models(self) -> RegisteredModelsAPI:
        # Lazy: see the class docstring (catalog is the largest service module).
        from databricks.sdk.service.catalog import RegisteredModelsAPI

        return _on(RegisteredModelsAPI, self.api_client)

    @cached_property
    def model_versions(self) -> ModelVersionsAPI:
        # Lazy: see the class docstring (catalog is the largest service module).
        from databricks.sdk.service.catalog import ModelVersionsAPI

        return _on(ModelVersionsAPI, self.api_client)

    @cached_property
    def serving_endpoints(self) -> ServingEndpointsExt:
        # Lazy: see the class docstring.
        from databricks.sdk.mixins.open_ai_client import ServingEndpointsExt

        return _on(ServingEndpointsExt, self.api_client)

    @cached_property
    def vector_search_endpoints(self) -> VectorSearchEndpointsAPI:
        # Lazy: see the class docstring.
        from databricks.sdk.service.vectorsearch import VectorSearchEndpointsAPI

        return _on(VectorSearchEndpointsAPI, self.api_client)

    @cached_property
    def vector_search_indexes(self) -> VectorSearchIndexesAPI:
        # Lazy: see the class docstring.
        from databricks.sdk.service.vectorsearch import VectorSearchIndexesAPI

        return _on(VectorSearchIndexesAPI, self.api_client)

    @cached_property
    def workspace(self) -> WorkspaceExt:
        # Lazy: see the class docstring (only apply's lock on a Databricks target needs it).
        from databricks.sdk.mixins.workspace import WorkspaceExt

        return _on(WorkspaceExt, self.api_client)

    def __getattr__(self, name: str) -> Any:
        """Any other service of the full client, on this client's ``ApiClient``."""
        if name.startswith("_"):
            raise AttributeError(name)
        if self._full is None:
            # The full client imports every service of the SDK (about a second of CPU).
            sdk = importlib.import_module("databricks.sdk")
            self._full = sdk.WorkspaceClient(config=self._config)
        api = getattr(self._full, name)
        if hasattr(api, "_api"):
            api._api = self.api_client
        setattr(self, name, api)
        return api


def _on(api_class: Callable[[ApiClient], T], api_client: ApiClient) -> T:
    return api_class(api_client)
