"""The less-travelled routes: notifications, legacy rate limits, logs, legacy served_models,
external models, model rename and vector search permissions."""

from __future__ import annotations

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, ResourceDoesNotExist
from databricks.sdk.service.serving import (
    EmailNotifications,
    EndpointCoreConfigInput,
    ExternalModel,
    ExternalModelProvider,
    OpenAiConfig,
    RateLimit,
    RateLimitRenewalPeriod,
    ServedEntityInput,
    ServedModelInput,
)
from databricks.sdk.service.vectorsearch import EndpointType

from reconciler.sandbox import register_version


def test_notifications_rate_limits_and_logs(sdk: WorkspaceClient) -> None:
    register_version(sdk, "main.s.m")
    sdk.serving_endpoints.create_and_wait(
        "ep",
        config=EndpointCoreConfigInput(
            name="ep",
            served_entities=[
                ServedEntityInput(
                    name="e",
                    entity_name="main.s.m",
                    entity_version="1",
                    workload_size="Small",
                    scale_to_zero_enabled=True,
                )
            ],
        ),
    )
    got = sdk.serving_endpoints.update_notifications(
        "ep", email_notifications=EmailNotifications(on_update_failure=["a@example.com"])
    )
    assert got.name == "ep" and got.email_notifications is not None
    detailed = sdk.serving_endpoints.get("ep")
    assert detailed.email_notifications is not None
    assert detailed.email_notifications.on_update_failure == ["a@example.com"]
    limits = sdk.serving_endpoints.put(
        "ep", rate_limits=[RateLimit(calls=10, renewal_period=RateLimitRenewalPeriod.MINUTE)]
    )
    assert [limit.calls for limit in limits.rate_limits or []] == [10]
    assert sdk.serving_endpoints.logs("ep", "e").logs
    assert sdk.serving_endpoints.build_logs("ep", "e").logs
    with pytest.raises(ResourceDoesNotExist):
        sdk.serving_endpoints.logs("ep", "nope")


def test_legacy_served_models_and_external_models(sdk: WorkspaceClient) -> None:
    register_version(sdk, "main.s.m")
    ep = sdk.serving_endpoints.create(
        "legacy",
        config=EndpointCoreConfigInput(
            name="legacy",
            served_models=[
                ServedModelInput(
                    model_name="main.s.m",
                    model_version="1",
                    scale_to_zero_enabled=True,
                    workload_size="Small",
                )
            ],
        ),
    ).response
    assert ep.pending_config is not None
    (model,) = ep.pending_config.served_models
    assert (model.model_name, model.model_version, model.name) == ("main.s.m", "1", "m-1")
    assert ep.pending_config.traffic_config is not None
    assert ep.pending_config.traffic_config.routes[0].served_model_name == "m-1"

    ext = sdk.serving_endpoints.create(
        "chat",
        config=EndpointCoreConfigInput(
            name="chat",
            served_entities=[
                ServedEntityInput(
                    external_model=ExternalModel(
                        provider=ExternalModelProvider.OPENAI,
                        name="gpt-4o:latest",
                        task="llm/v1/chat",
                        openai_config=OpenAiConfig(openai_api_key_plaintext="sk-secret"),
                    )
                )
            ],
        ),
    ).response
    assert ext.pending_config is not None
    entity = ext.pending_config.served_entities[0]
    assert entity.name == "gpt-4o-latest"
    assert entity.external_model is not None and entity.external_model.openai_config is not None
    assert entity.external_model.openai_config.openai_api_key_plaintext is None
    raw = sdk.api_client.do("GET", "/api/2.0/serving-endpoints/chat")
    assert "sk-secret" not in str(raw)


def test_model_rename_moves_versions_and_aliases(sdk: WorkspaceClient) -> None:
    register_version(sdk, "main.s.old")
    sdk.registered_models.set_alias("main.s.old", "champion", 1)
    renamed = sdk.registered_models.update("main.s.old", new_name="new")
    assert renamed.full_name == "main.s.new"
    with pytest.raises(NotFound):
        sdk.registered_models.get("main.s.old")
    assert sdk.model_versions.get_by_alias("main.s.new", "champion").model_name == "new"


def test_vector_search_endpoint_permissions(sdk: WorkspaceClient) -> None:
    ep = sdk.vector_search_endpoints.create_endpoint("vs", EndpointType.STANDARD).response
    path = f"/api/2.0/permissions/vector-search-endpoints/{ep.id}"
    body = {"access_control_list": [{"group_name": "readers", "permission_level": "CAN_USE"}]}
    got = sdk.api_client.do("PUT", path, body=body)
    assert isinstance(got, dict)
    assert got["object_type"] == "vector-search-endpoint"
    assert {"group_name": "readers", "all_permissions": [
        {"permission_level": "CAN_USE", "inherited": False}
    ]} in got["access_control_list"]  # fmt: skip
    sdk.vector_search_endpoints.delete_endpoint("vs")
    with pytest.raises(ResourceDoesNotExist):
        sdk.api_client.do("GET", path)
