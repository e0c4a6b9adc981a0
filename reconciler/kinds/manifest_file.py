"""The shape of one manifest file: one top-level list per kind."""

from __future__ import annotations

from pydantic import Field

from reconciler.kinds.quota import QuotaSpec
from reconciler.kinds.registered_model import RegisteredModelSpec
from reconciler.kinds.serving_endpoint import ServingEndpointSpec
from reconciler.kinds.vector_search import VectorIndexSpec, VectorSearchEndpointSpec
from reconciler.model.spec import Spec


class ManifestFile(Spec):
    registered_models: list[RegisteredModelSpec] = Field(default_factory=list)
    serving_endpoints: list[ServingEndpointSpec] = Field(default_factory=list)
    vector_search_endpoints: list[VectorSearchEndpointSpec] = Field(default_factory=list)
    vector_indexes: list[VectorIndexSpec] = Field(default_factory=list)
    quotas: list[QuotaSpec] = Field(default_factory=list)
