"""MLflow registry target: registered models and aliases on any MLflow model registry.

One code path over ``mlflow.MlflowClient`` serves an embedded sqlite registry, an MLflow
tracking server over http and Databricks Unity Catalog (``databricks-uc``). Only the registry
kinds exist there, so the adapter declares exactly those as its capabilities.
"""

from reconciler.adapters.mlflow.adapter import MlflowWorkspace
from reconciler.adapters.mlflow.model_changes import check_model_name, split_alias_name
from reconciler.adapters.mlflow.promotion import (
    APPROVAL_TAG_PREFIX,
    PROMOTION_TAG_PREFIX,
    approval_tag,
    promotion_tag,
)
from reconciler.adapters.mlflow.uris import DEFAULT_TRACKING_URI, resolve_uris, sqlite_path

__all__ = [
    "APPROVAL_TAG_PREFIX",
    "DEFAULT_TRACKING_URI",
    "PROMOTION_TAG_PREFIX",
    "MlflowWorkspace",
    "approval_tag",
    "check_model_name",
    "promotion_tag",
    "resolve_uris",
    "split_alias_name",
    "sqlite_path",
]
