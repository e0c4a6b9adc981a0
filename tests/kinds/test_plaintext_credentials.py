"""Which credential fields of a live external model were given as plaintext (the API keeps
them and never returns them): what import names when it cannot write such an endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.kinds.external_model import plaintext_credentials

REF = "{{secrets/s/k}}"


@pytest.mark.parametrize(
    ("live", "expected"),
    [
        ({"provider": "openai", "openai_config": {}}, ["openai_config.openai_api_key"]),
        ({"provider": "openai", "openai_config": {"openai_api_key": REF}}, []),
        (
            {"provider": "openai", "openai_config": {"microsoft_entra_client_id": "c"}},
            ["openai_config.microsoft_entra_client_secret"],
        ),
        ({"provider": "anthropic"}, ["anthropic_config.anthropic_api_key"]),
        (
            {"provider": "amazon-bedrock", "amazon_bedrock_config": {"aws_region": "r"}},
            [
                "amazon_bedrock_config.aws_access_key_id",
                "amazon_bedrock_config.aws_secret_access_key",
            ],
        ),
        (
            {
                "provider": "amazon-bedrock",
                "amazon_bedrock_config": {"aws_region": "r", "instance_profile_arn": "arn"},
            },
            [],
        ),
        (
            {"provider": "custom", "custom_provider_config": {"api_key_auth": {"key": "K"}}},
            ["custom_provider_config.api_key_auth.value"],
        ),
        (
            {"provider": "custom", "custom_provider_config": {"bearer_token_auth": {}}},
            ["custom_provider_config.bearer_token_auth.token"],
        ),
        (
            {"provider": "custom", "custom_provider_config": {"bearer_token_auth": {"token": REF}}},
            [],
        ),
        ({"provider": "palm", "palm_config": {"palm_api_key": REF}}, []),
        ({"provider": "someday-new"}, []),
    ],
)
def test_plaintext_credentials_names_the_fields_without_a_reference(
    live: dict[str, Any], expected: list[str]
) -> None:
    assert plaintext_credentials(live) == expected
