"""The shape of one manifest file: one top-level list per kind, built from the kind registry."""

from __future__ import annotations

from typing import Any

from pydantic import Field, create_model

from reconciler.kinds.registry import manifest_kinds
from reconciler.model.spec import Spec

_LISTS: dict[str, Any] = {
    rules.manifest_key: (list[rules.spec], Field(default_factory=list))  # type: ignore[name-defined]
    for rules in manifest_kinds()
    if rules.manifest_key is not None
}
ManifestFile: type[Spec] = create_model("ManifestFile", __base__=Spec, **_LISTS)
"""``registered_models``, ``serving_endpoints``, ... each a list of that kind's spec."""
