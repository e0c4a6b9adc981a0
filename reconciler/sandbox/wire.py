"""Wire types of request bodies, checked before a handler runs.

Databricks parses request bodies into typed messages: a field of the wrong JSON type (a number
for a name, an object for a list) is a 400 ``MALFORMED_REQUEST`` before anything happens. The
same here, per operation. Fields not listed are not checked (the service ignores unknown ones);
``null`` counts as absent. Handlers still validate values (names, enums, ranges).

A spec is a Python type (``str``, ``int``, ``float``, ``bool``, ``dict`` for any object), a
one-item list ``[spec]`` (a list of it), ``{"*": spec}`` (a map of strings to it) or a dict of
field specs (an object).
"""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.api import ApiError

Spec = Any

TAG = {"key": str, "value": str}
TAGS = [TAG]
ROUTE = {"served_entity_name": str, "served_model_name": str, "traffic_percentage": int}
ROUTES = {"routes": [ROUTE]}
_ENTITY_COMMON = {
    "name": str,
    "workload_size": str,
    "workload_type": str,
    "scale_to_zero_enabled": bool,
    "min_provisioned_concurrency": int,
    "max_provisioned_concurrency": int,
    "min_provisioned_throughput": int,
    "max_provisioned_throughput": int,
    "provisioned_model_units": int,
    "burst_scaling_enabled": bool,
    "environment_vars": {"*": str},
    "instance_profile_arn": str,
}


def _secret(*fields: str) -> dict[str, Spec]:
    """Secret-reference fields and their ``*_plaintext`` twins: strings."""
    return {name: str for f in fields for name in (f, f"{f}_plaintext")}


EXTERNAL_MODEL = {
    "provider": str,
    "name": str,
    "task": str,
    "ai21labs_config": _secret("ai21labs_api_key"),
    "amazon_bedrock_config": {
        "aws_region": str,
        "bedrock_provider": str,
        "instance_profile_arn": str,
        "uc_service_credential_name": str,
        **_secret("aws_access_key_id", "aws_secret_access_key"),
    },
    "anthropic_config": _secret("anthropic_api_key"),
    "cohere_config": {"cohere_api_base": str, **_secret("cohere_api_key")},
    "custom_provider_config": {
        "custom_provider_url": str,
        "api_key_auth": {"key": str, **_secret("value")},
        "bearer_token_auth": _secret("token"),
    },
    "databricks_model_serving_config": {
        "databricks_workspace_url": str,
        **_secret("databricks_api_token"),
    },
    "google_cloud_vertex_ai_config": {
        "project_id": str,
        "region": str,
        **_secret("private_key"),
    },
    "openai_config": {
        "openai_api_base": str,
        "openai_api_type": str,
        "openai_api_version": str,
        "openai_deployment_name": str,
        "openai_organization": str,
        "microsoft_entra_client_id": str,
        "microsoft_entra_tenant_id": str,
        **_secret("openai_api_key", "microsoft_entra_client_secret"),
    },
    "palm_config": _secret("palm_api_key"),
}
ENTITY = {
    **_ENTITY_COMMON,
    "entity_name": str,
    "entity_version": str,
    "external_model": EXTERNAL_MODEL,
}
SERVED_MODEL = {**_ENTITY_COMMON, "model_name": str, "model_version": str}
AUTO_CAPTURE = {
    "catalog_name": str,
    "schema_name": str,
    "table_name_prefix": str,
    "enabled": bool,
}
CORE_CONFIG = {
    "served_entities": [ENTITY],
    "served_models": [SERVED_MODEL],
    "traffic_config": ROUTES,
    "auto_capture_config": AUTO_CAPTURE,
}
GUARDRAIL = {
    "safety": bool,
    "pii": {"behavior": str},
    "invalid_keywords": [str],
    "valid_topics": [str],
}
AI_GATEWAY = {
    "usage_tracking_config": {"enabled": bool},
    "rate_limits": [
        {"calls": int, "tokens": int, "key": str, "principal": str, "renewal_period": str}
    ],
    "guardrails": {"input": GUARDRAIL, "output": GUARDRAIL},
    "inference_table_config": AUTO_CAPTURE,
    "fallback_config": {"enabled": bool},
}
LEGACY_RATE_LIMITS = [{"calls": int, "key": str, "renewal_period": str}]
NOTIFICATIONS = {"on_update_failure": [str], "on_update_success": [str]}
TELEMETRY = {
    "enabled_telemetry_features": [str],
    "inference_table_config": {"name": str, "sampling_fraction": float},
    "table_names": {
        "annotations_table": str,
        "logs_table": str,
        "metrics_table": str,
        "traces_table": str,
    },
    "telemetry_profile_id": str,
}
ACL = [
    {
        "user_name": str,
        "group_name": str,
        "service_principal_name": str,
        "permission_level": str,
    }
]
SOURCE_COLUMNS = [
    {"name": str, "embedding_model_endpoint_name": str, "model_endpoint_name_for_query": str}
]
VECTOR_COLUMNS = [{"name": str, "embedding_dimension": int}]
MLFLOW_ARGS = {"name": str, "alias": str, "version": str, "key": str, "value": str}

SCHEMAS: dict[str, Spec] = {
    "serving_endpoints.create": {
        "name": str,
        "config": {"name": str, **CORE_CONFIG},
        "ai_gateway": AI_GATEWAY,
        "budget_policy_id": str,
        "description": str,
        "route_optimized": bool,
        "tags": TAGS,
        "rate_limits": LEGACY_RATE_LIMITS,
        "email_notifications": NOTIFICATIONS,
        "telemetry_config": TELEMETRY,
    },
    "serving_endpoints.update_config": CORE_CONFIG,
    "serving_endpoints.put_ai_gateway": AI_GATEWAY,
    "serving_endpoints.patch": {"add_tags": TAGS, "delete_tags": [str]},
    "serving_endpoints.put": {"rate_limits": LEGACY_RATE_LIMITS},
    "serving_endpoints.update_notifications": {"email_notifications": NOTIFICATIONS},
    "serving_endpoints.patch_telemetry_config": {"telemetry_config": TELEMETRY},
    "permissions.set": {"access_control_list": ACL},
    "permissions.update": {"access_control_list": ACL},
    "registered_models.create": {
        "catalog_name": str,
        "schema_name": str,
        "name": str,
        "comment": str,
        "owner": str,
        "storage_location": str,
    },
    "registered_models.update": {
        "full_name": str,
        "new_name": str,
        "owner": str,
        "comment": str,
        "storage_location": str,
    },
    "registered_models.set_alias": {"full_name": str, "alias": str, "version_num": int},
    "model_versions.create": {
        "catalog_name": str,
        "schema_name": str,
        "model_name": str,
        "source": str,
        "comment": str,
        "run_id": str,
    },
    "model_versions.update": {"comment": str},
    "grants.update": {"changes": [{"principal": str, "add": [str], "remove": [str]}]},
    "securable_tags.update": {"changes": {"add_tags": TAGS, "remove": [str]}},
    "subentity_tags.update": {"changes": {"add_tags": TAGS, "remove": [str]}},
    "mlflow.create_registered_model": {"name": str, "description": str, "tags": TAGS},
    "mlflow.set_registered_model_tag": MLFLOW_ARGS,
    "mlflow.set_registered_model_alias": MLFLOW_ARGS,
    "mlflow.delete_registered_model_alias": MLFLOW_ARGS,
    "mlflow.set_model_version_tag": MLFLOW_ARGS,
    "mlflow.delete_model_version_tag": MLFLOW_ARGS,
    "vector_search_endpoints.create_endpoint": {
        "name": str,
        "endpoint_type": str,
        "budget_policy_id": str,
        "target_qps": int,
        "usage_policy_id": str,
    },
    "vector_search_endpoints.patch_endpoint": {"target_qps": int, "endpoint_type": str},
    "vector_search_endpoints.update_endpoint_custom_tags": {"custom_tags": TAGS},
    "vector_search_endpoints.update_endpoint_budget_policy": {"budget_policy_id": str},
    "vector_search_indexes.create_index": {
        "name": str,
        "endpoint_name": str,
        "primary_key": str,
        "index_type": str,
        "index_subtype": str,
        "delta_sync_index_spec": {
            "source_table": str,
            "pipeline_type": str,
            "embedding_source_columns": SOURCE_COLUMNS,
            "embedding_vector_columns": VECTOR_COLUMNS,
            "columns_to_sync": [str],
            "columns_to_index": [str],
            "embedding_writeback_table": str,
        },
        "direct_access_index_spec": {
            "schema_json": str,
            "embedding_vector_columns": VECTOR_COLUMNS,
            "embedding_source_columns": SOURCE_COLUMNS,
        },
    },
    "workspace.mkdirs": {"path": str},
    "workspace.import_": {
        "path": str,
        "format": str,
        "language": str,
        "content": str,
        "overwrite": bool,
    },
    "workspace.delete": {"path": str, "recursive": bool},
    "sandbox.set_version_status": {"full_name": str, "version": int, "status": str},
}

_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    dict: "an object",
}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _fits(value: Any, spec: Spec) -> bool:
    if spec is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if spec is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(spec, type):
        return isinstance(value, spec)
    if isinstance(spec, list):
        return isinstance(value, list)
    return isinstance(value, dict)


def _expected(spec: Spec) -> str:
    if isinstance(spec, type):
        return _NAMES[spec]
    return "a list" if isinstance(spec, list) else "an object"


def check(value: Any, spec: Spec, path: str) -> None:
    """Raise 400 MALFORMED_REQUEST naming the first field of the wrong type."""
    if value is None:
        return
    if not _fits(value, spec):
        raise ApiError(
            400,
            "MALFORMED_REQUEST",
            f"Invalid JSON given in the body of the request: field '{path}' must be"
            f" {_expected(spec)}, got {_kind(value)}.",
        )
    if isinstance(spec, list):
        for i, item in enumerate(value):
            check(item, spec[0], f"{path}[{i}]")
    elif isinstance(spec, dict):
        if set(spec) == {"*"}:
            for key, item in value.items():
                check(item, spec["*"], f"{path}.{key}")
        else:
            for key, item_spec in spec.items():
                check(value.get(key), item_spec, f"{path}.{key}" if path else key)


def check_body(operation: str, body: dict[str, Any]) -> None:
    spec = SCHEMAS.get(operation)
    if spec is not None:
        check(body, spec, "")
