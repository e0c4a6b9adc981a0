"""External models in the sandbox, validated as the service does: every provider's config
block, each credential given once (a secret reference, returned as written, or ``*_plaintext``,
never returned), unknown providers and blocks refused."""

from __future__ import annotations

from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import BadRequest

REF = "{{secrets/llm/key}}"
PROVIDERS: list[tuple[str, dict[str, Any]]] = [
    ("openai", {"openai_config": {"openai_api_key": REF, "openai_organization": "org-1"}}),
    (
        "openai",
        {
            "openai_config": {
                "microsoft_entra_client_id": "app-1",
                "microsoft_entra_tenant_id": "tenant-1",
                "microsoft_entra_client_secret": REF,
                "openai_api_type": "azuread",
            }
        },
    ),
    ("anthropic", {"anthropic_config": {"anthropic_api_key": REF}}),
    (
        "amazon-bedrock",
        {
            "amazon_bedrock_config": {
                "aws_region": "us-east-1",
                "bedrock_provider": "anthropic",
                "aws_access_key_id": REF,
                "aws_secret_access_key": REF,
            }
        },
    ),
    (
        "amazon-bedrock",
        {
            "amazon_bedrock_config": {
                "aws_region": "us-east-1",
                "bedrock_provider": "amazon",
                "instance_profile_arn": "arn:aws:iam::1:instance-profile/bedrock",
            }
        },
    ),
    ("cohere", {"cohere_config": {"cohere_api_key": REF}}),
    (
        "google-cloud-vertex-ai",
        {"google_cloud_vertex_ai_config": {"project_id": "p", "region": "r", "private_key": REF}},
    ),
    ("ai21labs", {"ai21labs_config": {"ai21labs_api_key": REF}}),
    (
        "databricks-model-serving",
        {
            "databricks_model_serving_config": {
                "databricks_workspace_url": "https://other.cloud.databricks.com",
                "databricks_api_token": REF,
            }
        },
    ),
    ("palm", {"palm_config": {"palm_api_key": REF}}),
    (
        "custom",
        {
            "custom_provider_config": {
                "custom_provider_url": "https://llm.example.com/v1",
                "bearer_token_auth": {"token": REF},
            }
        },
    ),
]


def _create(sdk: WorkspaceClient, name: str, external: dict[str, Any]) -> dict[str, Any]:
    body = {
        "name": name,
        "config": {"name": name, "served_entities": [{"name": "m", "external_model": external}]},
    }
    sdk.api_client.do("POST", "/api/2.0/serving-endpoints", body=body)
    got = sdk.api_client.do("GET", f"/api/2.0/serving-endpoints/{name}")
    assert isinstance(got, dict)
    return got


@pytest.mark.parametrize(("provider", "config"), PROVIDERS, ids=lambda p: str(p)[:30])
def test_every_provider_config_is_served_with_references_as_written(
    sdk: WorkspaceClient, provider: str, config: dict[str, Any]
) -> None:
    external = {"name": "model-x", "provider": provider, "task": "llm/v1/chat", **config}
    got = _create(sdk, "ep", external)
    (entity,) = (got.get("pending_config") or got["config"])["served_entities"]
    assert entity["external_model"] == external
    assert "workload_type" not in entity and "scale_to_zero_enabled" not in entity


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("unknown provider", {"provider": "openia"}, "Invalid external model provider 'openia'"),
    ("unknown task", {"task": "llm/v2/chat"}, "Invalid external model task"),
    (
        "block of another provider",
        {"anthropic_config": {"anthropic_api_key": REF}},
        "anthropic_config cannot be used with provider openai",
    ),
    ("no block", {"openai_config": None}, "Provider openai requires openai_config"),
    (
        "both forms of one credential",
        {"openai_config": {"openai_api_key": REF, "openai_api_key_plaintext": "sk-1"}},
        "only one of openai_api_key or openai_api_key_plaintext",
    ),
    (
        "a reference field holding a value",
        {"openai_config": {"openai_api_key": "sk-1"}},
        "must be a secret reference",
    ),
    ("no credential", {"openai_config": {"openai_organization": "o"}}, "needs openai_api_key"),
]


@pytest.mark.parametrize(("why", "change", "says"), BAD, ids=[b[0] for b in BAD])
def test_bad_external_models_are_refused(
    sdk: WorkspaceClient, why: str, change: dict[str, Any], says: str
) -> None:
    external = {
        "name": "gpt-4o",
        "provider": "openai",
        "task": "llm/v1/chat",
        "openai_config": {"openai_api_key": REF},
        **change,
    }
    external = {k: v for k, v in external.items() if v is not None}
    with pytest.raises(BadRequest) as caught:
        _create(sdk, "bad", external)
    assert says in str(caught.value)
    assert "sk-1" not in str(caught.value)


def test_an_external_model_takes_no_sizing(sdk: WorkspaceClient) -> None:
    body = {
        "name": "ep",
        "config": {
            "name": "ep",
            "served_entities": [
                {
                    "name": "m",
                    "workload_size": "Small",
                    "external_model": {
                        "name": "gpt-4o",
                        "provider": "openai",
                        "task": "llm/v1/chat",
                        "openai_config": {"openai_api_key": REF},
                    },
                }
            ],
        },
    }
    with pytest.raises(BadRequest, match="cannot be combined with workload_size"):
        sdk.api_client.do("POST", "/api/2.0/serving-endpoints", body=body)
