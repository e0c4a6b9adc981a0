"""External models: a served entity that routes to a provider outside Databricks (OpenAI,
Anthropic, Bedrock, ...) through AI Gateway.

Fields keep the API's own names (``openai_config.openai_api_base``), so a block copied from
the Databricks documentation is a valid manifest block. Credentials are written only as secret
references (``{{secrets/scope/key}}``), which the workspace resolves: a ``*_plaintext`` field or
a credential field holding anything but one reference is refused where it is written, and its
value is never repeated in the message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from enum import StrEnum
from functools import cache
from typing import Any, ClassVar, Self

from pydantic import field_validator, model_validator

from reconciler.model.secrets import has_placeholder
from reconciler.model.spec import FieldError, Spec

REFERENCE = re.compile(r"^\{\{\s*secrets/[^/{}\s]+/[^/{}\s]+\s*\}\}$")
"""A whole value that is one secret reference: ``{{secrets/scope/key}}``."""

SECRET_HINT = (
    "store the credential as a Databricks secret (databricks secrets put-secret SCOPE KEY) and"
    " write its reference: '{{{{secrets/SCOPE/KEY}}}}' in {field}"
)


def is_reference(value: str) -> bool:
    """The whole value is one ``{{secrets/scope/key}}`` reference."""
    return REFERENCE.match(value) is not None


class ProviderConfig(Spec):
    """A provider block; ``credentials`` names its secret-reference fields."""

    credentials: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _no_plaintext(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        for key in value:
            if str(key).endswith("_plaintext"):
                field = str(key).removesuffix("_plaintext")
                raise FieldError(
                    f"{key} holds a plaintext credential; credentials are only written as"
                    " secret references, never in manifests",
                    at=(str(key),),
                    key=True,
                    hint=SECRET_HINT.format(field=field),
                )
        return value

    @model_validator(mode="after")
    def _references_only(self) -> Self:
        for field in self.credentials:
            value = getattr(self, field)
            if value is None:
                continue
            if has_placeholder(value):  # as an older import wrote it
                raise FieldError(
                    f"{field} holds a '(secret ...)' placeholder; put the secret reference back",
                    at=(field,),
                    hint=SECRET_HINT.format(field=field),
                )
            if not is_reference(value):
                raise FieldError(
                    f"{field} must be a secret reference {{{{secrets/scope/key}}}}; a plaintext"
                    " credential is not accepted (the value is not shown)",
                    at=(field,),
                    hint=SECRET_HINT.format(field=field),
                )
        return self

    def _need(self, *alternatives: tuple[str, ...]) -> None:
        """At least one group of fields is set in full (else an error naming the groups)."""
        for group in alternatives:
            if all(getattr(self, f) is not None for f in group):
                return
        said = " or ".join("+".join(g) for g in alternatives)
        raise FieldError(f"needs {said}", at=())


ENTRA_ID = (
    "microsoft_entra_client_id",
    "microsoft_entra_client_secret",
    "microsoft_entra_tenant_id",
)


class OpenAiConfig(ProviderConfig):
    """OpenAI or Azure OpenAI: an API key, or Microsoft Entra ID (client id, secret, tenant)."""

    credentials: ClassVar[tuple[str, ...]] = ("openai_api_key", "microsoft_entra_client_secret")
    openai_api_key: str | None = None
    """Secret reference to the OpenAI / Azure OpenAI API key."""
    openai_api_base: str | None = None
    """Base URL of the API (required for Azure OpenAI)."""
    openai_api_type: str | None = None
    """``openai``, ``azure`` or ``azuread``."""
    openai_api_version: str | None = None
    """Azure OpenAI API version."""
    openai_deployment_name: str | None = None
    """Azure OpenAI deployment name."""
    openai_organization: str | None = None
    """OpenAI organization."""
    microsoft_entra_client_id: str | None = None
    """Entra ID application (client) id."""
    microsoft_entra_client_secret: str | None = None
    """Secret reference to the Entra ID client secret."""
    microsoft_entra_tenant_id: str | None = None
    """Entra ID tenant id."""

    @model_validator(mode="after")
    def _auth(self) -> Self:
        self._need(
            ("openai_api_key",),
            ENTRA_ID,
        )
        return self


class AnthropicConfig(ProviderConfig):
    credentials: ClassVar[tuple[str, ...]] = ("anthropic_api_key",)
    anthropic_api_key: str
    """Secret reference to the Anthropic API key."""


class BedrockProvider(StrEnum):
    AI21LABS = "ai21labs"
    AMAZON = "amazon"
    ANTHROPIC = "anthropic"
    COHERE = "cohere"


class AmazonBedrockConfig(ProviderConfig):
    """Access keys, an instance profile or a Unity Catalog service credential."""

    credentials: ClassVar[tuple[str, ...]] = ("aws_access_key_id", "aws_secret_access_key")
    aws_region: str
    """AWS region of the Bedrock service."""
    bedrock_provider: BedrockProvider
    """The model family behind Bedrock: amazon, anthropic, cohere, ai21labs."""
    aws_access_key_id: str | None = None
    """Secret reference to the AWS access key id."""
    aws_secret_access_key: str | None = None
    """Secret reference to the AWS secret access key."""
    instance_profile_arn: str | None = None
    """Instance profile to call Bedrock with, instead of keys."""
    uc_service_credential_name: str | None = None
    """Unity Catalog service credential, instead of keys."""

    @model_validator(mode="after")
    def _auth(self) -> Self:
        self._need(
            ("aws_access_key_id", "aws_secret_access_key"),
            ("instance_profile_arn",),
            ("uc_service_credential_name",),
        )
        return self


class CohereConfig(ProviderConfig):
    credentials: ClassVar[tuple[str, ...]] = ("cohere_api_key",)
    cohere_api_key: str
    """Secret reference to the Cohere API key."""
    cohere_api_base: str | None = None
    """Base URL of the Cohere API."""


class GoogleCloudVertexAiConfig(ProviderConfig):
    credentials: ClassVar[tuple[str, ...]] = ("private_key",)
    project_id: str
    """Google Cloud project id."""
    region: str
    """Vertex AI region."""
    private_key: str
    """Secret reference to the service account's private key."""


class Ai21LabsConfig(ProviderConfig):
    credentials: ClassVar[tuple[str, ...]] = ("ai21labs_api_key",)
    ai21labs_api_key: str
    """Secret reference to the AI21 Labs API key."""


class DatabricksModelServingConfig(ProviderConfig):
    credentials: ClassVar[tuple[str, ...]] = ("databricks_api_token",)
    databricks_workspace_url: str
    """URL of the workspace serving the model."""
    databricks_api_token: str
    """Secret reference to a token for that workspace."""


class PaLmConfig(ProviderConfig):
    credentials: ClassVar[tuple[str, ...]] = ("palm_api_key",)
    palm_api_key: str
    """Secret reference to the PaLM API key."""


class ApiKeyAuth(ProviderConfig):
    credentials: ClassVar[tuple[str, ...]] = ("value",)
    key: str
    """Header name the key is sent in."""
    value: str
    """Secret reference to the key."""


class BearerTokenAuth(ProviderConfig):
    credentials: ClassVar[tuple[str, ...]] = ("token",)
    token: str
    """Secret reference to the bearer token."""


class CustomProviderConfig(ProviderConfig):
    """Any OpenAI-compatible endpoint, with an API key header or a bearer token."""

    custom_provider_url: str
    """URL of the provider's API."""
    api_key_auth: ApiKeyAuth | None = None
    """An API key sent in a header."""
    bearer_token_auth: BearerTokenAuth | None = None
    """A bearer token."""

    @model_validator(mode="after")
    def _auth(self) -> Self:
        if (self.api_key_auth is None) == (self.bearer_token_auth is None):
            raise FieldError("needs exactly one of api_key_auth or bearer_token_auth", at=())
        return self


class Provider(StrEnum):
    AI21LABS = "ai21labs"
    AMAZON_BEDROCK = "amazon-bedrock"
    ANTHROPIC = "anthropic"
    COHERE = "cohere"
    CUSTOM = "custom"
    DATABRICKS_MODEL_SERVING = "databricks-model-serving"
    GOOGLE_CLOUD_VERTEX_AI = "google-cloud-vertex-ai"
    OPENAI = "openai"
    PALM = "palm"


PROVIDER_CONFIGS: dict[str, str] = {
    "ai21labs": "ai21labs_config",
    "amazon-bedrock": "amazon_bedrock_config",
    "anthropic": "anthropic_config",
    "cohere": "cohere_config",
    "custom": "custom_provider_config",
    "databricks-model-serving": "databricks_model_serving_config",
    "google-cloud-vertex-ai": "google_cloud_vertex_ai_config",
    "openai": "openai_config",
    "palm": "palm_config",
}
"""Provider -> the block that configures it (the API's names)."""


class ExternalModelSpec(Spec):
    """``external_model:`` of a served entity: ``{name, provider, task, <provider>_config}``."""

    name: str
    """The provider's model name (gpt-4o, claude-3-5-sonnet, ...)."""
    provider: Provider
    """ai21labs, amazon-bedrock, anthropic, cohere, custom, databricks-model-serving,
    google-cloud-vertex-ai, openai or palm."""
    task: str
    """llm/v1/chat, llm/v1/completions or llm/v1/embeddings."""
    ai21labs_config: Ai21LabsConfig | None = None
    amazon_bedrock_config: AmazonBedrockConfig | None = None
    anthropic_config: AnthropicConfig | None = None
    cohere_config: CohereConfig | None = None
    custom_provider_config: CustomProviderConfig | None = None
    databricks_model_serving_config: DatabricksModelServingConfig | None = None
    google_cloud_vertex_ai_config: GoogleCloudVertexAiConfig | None = None
    openai_config: OpenAiConfig | None = None
    palm_config: PaLmConfig | None = None

    @field_validator("provider", mode="before")
    @classmethod
    def _known(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in PROVIDER_CONFIGS:
            raise FieldError(
                f"unknown external model provider {value!r}; use one of"
                f" {', '.join(PROVIDER_CONFIGS)}"
            )
        return value

    @model_validator(mode="after")
    def _provider(self) -> Self:
        wanted = PROVIDER_CONFIGS[self.provider.value]
        for block in PROVIDER_CONFIGS.values():
            if block != wanted and getattr(self, block) is not None:
                raise FieldError(
                    f"{block} does not configure provider {self.provider.value!r}; it takes"
                    f" {wanted}",
                    at=(block,),
                    key=True,
                )
        if getattr(self, wanted) is None:
            raise FieldError(
                f"provider {self.provider.value!r} needs {wanted}",
                at=("provider",),
            )
        return self


CONFIG_TYPES: dict[str, type[ProviderConfig]] = {
    "ai21labs_config": Ai21LabsConfig,
    "amazon_bedrock_config": AmazonBedrockConfig,
    "anthropic_config": AnthropicConfig,
    "cohere_config": CohereConfig,
    "databricks_model_serving_config": DatabricksModelServingConfig,
    "google_cloud_vertex_ai_config": GoogleCloudVertexAiConfig,
    "openai_config": OpenAiConfig,
    "palm_config": PaLmConfig,
}
"""Provider blocks with credentials of their own (``custom_provider_config`` nests them)."""


def plaintext_credentials(external_model: Mapping[str, Any]) -> list[str]:
    """Credential fields of a live external model that hold no secret reference: the
    workspace was given them as ``*_plaintext``, which it keeps and never returns, so no
    manifest can name them. Paths start at the provider block (``openai_config.openai_api_key``)."""
    block = PROVIDER_CONFIGS.get(str(external_model.get("provider")))
    if block is None:
        return []
    config = external_model.get(block) or {}
    if block == "custom_provider_config":
        auths = (("api_key_auth", "value"), ("bearer_token_auth", "token"))
        given = [(a, f) for a, f in auths if config.get(a) is not None]
        return [f"{block}.{a}.{f}" for a, f in given or auths if not (config.get(a) or {}).get(f)]
    kind = CONFIG_TYPES[block]
    wanted = kind.credentials
    if kind is OpenAiConfig:  # one of two ways in: the key, or Entra ID's client secret
        entra = config.get("microsoft_entra_client_id") is not None
        wanted = ("microsoft_entra_client_secret",) if entra else ("openai_api_key",)
    if kind is AmazonBedrockConfig and (
        config.get("instance_profile_arn") or config.get("uc_service_credential_name")
    ):
        return []
    return [f"{block}.{field}" for field in wanted if not config.get(field)]


@cache
def credential_fields() -> frozenset[str]:
    """The names of every provider's credential fields (``openai_api_key``, ``token``, ...)."""
    found: set[str] = set()
    pending: list[type[ProviderConfig]] = [ProviderConfig]
    while pending:
        kind = pending.pop()
        found.update(kind.credentials)
        pending.extend(kind.__subclasses__())
    return frozenset(found)


def plaintext_paths(
    value: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[str | int, ...]]:
    """Paths inside ``value`` (any manifest subtree, not validated) where an external model's
    credential is written as plaintext: a ``*_plaintext`` key, or a credential field holding a
    string that is neither a reference nor a ``${...}`` still to be interpolated."""
    if isinstance(value, Mapping):
        inside = "external_model" in path
        credentials = credential_fields()
        for key, item in value.items():
            sub = (*path, str(key))
            plaintext = str(key).endswith("_plaintext") or (
                str(key) in credentials
                and isinstance(item, str)
                and not is_reference(item)
                and "${" not in item
            )
            if inside and plaintext:
                yield sub
            else:
                yield from plaintext_paths(item, sub)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from plaintext_paths(item, (*path, index))
