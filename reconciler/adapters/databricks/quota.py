"""Quotas on Databricks: the ``rate_limits`` of a serving endpoint's AI Gateway, both ways, and
the write that replaces only them (every other AI Gateway setting is read fresh and kept), so
it works on endpoints this tool does not own. Quotas are read with their endpoint
(``serving_endpoint.EndpointReader``).

The API spells a limit ``{calls|tokens, key, principal, renewal_period: minute}``; manifests say
``calls_per_minute``/``tokens_per_minute``. An omitted key means ``endpoint``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from databricks.sdk.errors import NotFound

from reconciler.adapters.databricks.ai_gateway import unmodelled_gateway_fields
from reconciler.adapters.databricks.sdk import WorkspaceClient
from reconciler.adapters.databricks.serving_endpoint import (
    API,
    QUOTA_TAG,
    list_endpoints,
    put_gateway,
)
from reconciler.adapters.databricks.serving_state import read_endpoint
from reconciler.adapters.databricks.writing import KindAdapter, Pairs, desired_of, from_api
from reconciler.kinds.quota import canonical_limits
from reconciler.model.changes import Action, Change
from reconciler.model.errors import ApplyError
from reconciler.model.live import LiveAsset
from reconciler.model.resources import KindName
from reconciler.runtime import retry
from reconciler.runtime.settings import ApplySettings

Doc = dict[str, Any]
AMOUNTS: Pairs = (("calls", "calls_per_minute"), ("tokens", "tokens_per_minute"))
LIMIT: Pairs = (("key", "key"), ("principal", "principal"), *AMOUNTS)
"""A rate limit's fields: ``(API, manifest)``."""


def normalize_quota(raw: Mapping[str, Any]) -> Doc:
    """``raw`` is the serving endpoint the quota belongs to."""
    gateway = raw.get("ai_gateway") or {}
    limits = [from_api(limit, LIMIT) for limit in gateway.get("rate_limits") or []]
    return {"endpoint": raw.get("name"), "rate_limits": canonical_limits(limits)}


def rate_limit(limit: Mapping[str, Any]) -> Doc:
    """A manifest rate limit in API terms (``normalize_quota``'s inverse, per limit)."""
    out: Doc = {"key": limit.get("key") or "endpoint", "renewal_period": "minute"}
    if limit.get("principal"):
        out["principal"] = limit["principal"]
    for api, ours in AMOUNTS:
        if limit.get(ours) is not None:
            out[api] = int(limit[ours])
    return out


def mark_quota(client: WorkspaceClient, endpoint: str, project: str, *, present: bool) -> None:
    """Set (or remove) ``reconciler.quota=<project>`` on the serving endpoint (a tag patch:
    other tags are untouched)."""
    if not project:
        return
    body: dict[str, Any] = (
        {"add_tags": [{"key": QUOTA_TAG, "value": project}]}
        if present
        else {"delete_tags": [QUOTA_TAG]}
    )
    path = f"{API}/{endpoint}/tags"
    try:
        retry.call(
            lambda: client.api_client.do("PATCH", path, body=body),
            what=f"{'marking' if present else 'unmarking'} the quota of {endpoint}",
        )
    except NotFound:
        if present:
            raise
        # The endpoint is gone, and its tags with it.


def apply_quota(
    client: WorkspaceClient, change: Change, live: LiveAsset | None, settings: ApplySettings
) -> None:
    """Replace only the rate limits. The ownership marker (``reconciler.quota``) is set before
    the limits and removed after them (see ``markers``)."""
    name = change.name
    deleting = change.action is Action.DELETE
    limits: list[Doc] = []
    if not deleting:
        limits = [rate_limit(x) for x in desired_of(change).get("rate_limits") or []]
    try:
        current = read_endpoint(client, name)
    except NotFound:
        if deleting:
            return
        raise ApplyError(
            f"serving endpoint {name} does not exist, so its quota cannot be set",
            address=change.address,
        ) from None
    if not deleting:
        mark_quota(client, name, settings.project, present=True)
    if change.action is Action.ADOPT and not change.diffs:
        return  # the limits already are the manifest's: adopting writes only the marker
    body = dict(current.get("ai_gateway") or {})
    body["rate_limits"] = limits
    put_gateway(client, name, body, change.address)
    if deleting:
        mark_quota(client, name, settings.project, present=False)


def unmodelled_quota_fields(raw: Mapping[str, Any]) -> list[str]:
    """The AI Gateway settings no manifest expresses: every quota write sends them back."""
    return unmodelled_gateway_fields(raw.get("ai_gateway"))


ADAPTERS = (
    KindAdapter(
        KindName.QUOTA, normalize_quota, apply_quota, list_endpoints, unmodelled_quota_fields
    ),
)
