"""External models on a served entity, validated as the service does, and stored as it keeps
them: each provider takes its own config block; every credential is given once, either as a
secret reference (``openai_api_key: "{{secrets/scope/key}}"``, returned as written) or as
``*_plaintext`` (stored, never returned)."""

from __future__ import annotations

import re
from typing import Any

from reconciler.sandbox.api import invalid
from reconciler.sandbox.store import Doc

TASKS = ("llm/v1/chat", "llm/v1/completions", "llm/v1/embeddings")
REFERENCE = re.compile(r"^\{\{\s*secrets/[^/{}\s]+/[^/{}\s]+\s*\}\}$")
BEDROCK_PROVIDERS = ("ai21labs", "amazon", "anthropic", "cohere")

# provider -> (config block, required plain fields, groups of credentials: one group must be
# given in full; each credential is a secret-reference field with a *_plaintext twin)
PROVIDERS: dict[str, tuple[str, tuple[str, ...], tuple[tuple[str, ...], ...]]] = {
    "ai21labs": ("ai21labs_config", (), (("ai21labs_api_key",),)),
    "amazon-bedrock": (
        "amazon_bedrock_config",
        ("aws_region", "bedrock_provider"),
        (
            ("aws_access_key_id", "aws_secret_access_key"),
            ("instance_profile_arn",),
            ("uc_service_credential_name",),
        ),
    ),
    "anthropic": ("anthropic_config", (), (("anthropic_api_key",),)),
    "cohere": ("cohere_config", (), (("cohere_api_key",),)),
    "custom": ("custom_provider_config", ("custom_provider_url",), ()),
    "databricks-model-serving": (
        "databricks_model_serving_config",
        ("databricks_workspace_url",),
        (("databricks_api_token",),),
    ),
    "google-cloud-vertex-ai": (
        "google_cloud_vertex_ai_config",
        ("project_id", "region"),
        (("private_key",),),
    ),
    "openai": (
        "openai_config",
        (),
        (
            ("openai_api_key",),
            (
                "microsoft_entra_client_id",
                "microsoft_entra_client_secret",
                "microsoft_entra_tenant_id",
            ),
        ),
    ),
    "palm": ("palm_config", (), (("palm_api_key",),)),
}
PLAIN = frozenset(
    {"instance_profile_arn", "uc_service_credential_name", "microsoft_entra_client_id"}
    | {"microsoft_entra_tenant_id"}
)
"""Fields of the credential groups that are not secrets (no reference, no plaintext twin)."""


def _obj(value: Any, what: str) -> Doc:
    if not isinstance(value, dict):
        raise invalid(f"{what} must be an object.")
    return dict(value)


def _credential(block: Doc, field: str, where: str) -> bool:
    """Whether the credential is given (once); a reference must be one ``{{secrets/...}}``."""
    reference, plaintext = block.get(field), block.get(f"{field}_plaintext")
    if reference is not None and plaintext is not None:
        raise invalid(f"{where}: only one of {field} or {field}_plaintext may be given.")
    if reference is not None and not (isinstance(reference, str) and REFERENCE.match(reference)):
        raise invalid(
            f"{where}.{field} must be a secret reference of the form {{{{secrets/scope/key}}}};"
            f" to give the value itself use {field}_plaintext."
        )
    return reference is not None or plaintext is not None


def _given(block: Doc, field: str, where: str) -> bool:
    if field in PLAIN:
        return block.get(field) is not None
    return _credential(block, field, where)


def _custom(block: Doc, where: str) -> None:
    api_key, bearer = block.get("api_key_auth"), block.get("bearer_token_auth")
    if (api_key is None) == (bearer is None):
        raise invalid(f"{where}: exactly one of api_key_auth or bearer_token_auth is required.")
    if api_key is not None:
        auth = _obj(api_key, f"{where}.api_key_auth")
        if not auth.get("key"):
            raise invalid(f"{where}.api_key_auth.key is required.")
        if not _credential(auth, "value", f"{where}.api_key_auth"):
            raise invalid(f"{where}.api_key_auth needs value or value_plaintext.")
    else:
        auth = _obj(bearer, f"{where}.bearer_token_auth")
        if not _credential(auth, "token", f"{where}.bearer_token_auth"):
            raise invalid(f"{where}.bearer_token_auth needs token or token_plaintext.")


def external_model(raw: Any) -> Doc:
    """Validate an ``external_model`` object; what GET will show (no ``*_plaintext``)."""
    ext = _obj(raw, "external_model")
    for key in ("provider", "name", "task"):
        if not ext.get(key):
            raise invalid(f"external_model.{key} is required.")
    provider = ext["provider"]
    if provider not in PROVIDERS:
        raise invalid(
            f"Invalid external model provider {provider!r}; supported: {', '.join(PROVIDERS)}."
        )
    if ext["task"] not in TASKS:
        raise invalid(
            f"Invalid external model task {ext['task']!r}; use one of {', '.join(TASKS)}."
        )
    config, required, groups = PROVIDERS[provider]
    for other, _, _ in PROVIDERS.values():
        if other != config and ext.get(other) is not None:
            raise invalid(f"{other} cannot be used with provider {provider}; use {config}.")
    if ext.get(config) is None:
        raise invalid(f"Provider {provider} requires {config}.")
    block = _obj(ext[config], f"external_model.{config}")
    where = f"external_model.{config}"
    for field in required:
        if not block.get(field):
            raise invalid(f"{where}.{field} is required.")
    if provider == "amazon-bedrock" and block["bedrock_provider"] not in BEDROCK_PROVIDERS:
        raise invalid(f"Invalid bedrock_provider {block['bedrock_provider']!r}.")
    if provider == "custom":
        _custom(block, where)
    elif groups and not any(all([_given(block, f, where) for f in group]) for group in groups):
        said = " or ".join("+".join(group) for group in groups)
        raise invalid(f"{where} needs {said} (each secret as a reference or *_plaintext).")
    shown: Doc = strip_plaintext(ext)
    return shown


def strip_plaintext(value: Any) -> Any:
    """Secrets sent as ``*_plaintext`` are kept by the service and never returned."""
    if isinstance(value, dict):
        return {
            k: strip_plaintext(v) for k, v in value.items() if not str(k).endswith("_plaintext")
        }
    if isinstance(value, list):
        return [strip_plaintext(v) for v in value]
    return value
