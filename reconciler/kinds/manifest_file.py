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
_TARGETS: Any = (
    dict[str, dict[str, dict[str, dict[str, Any]]]],
    Field(
        default_factory=dict,
        description="Fields that differ per target: {target: {manifest key: {asset name:"
        " {field: value}}}}, merged into the entries above (see docs/manifests.md).",
    ),
)
ManifestFile: type[Spec] = create_model("ManifestFile", __base__=Spec, **_LISTS, targets=_TARGETS)
"""``registered_models``, ``serving_endpoints``, ... each a list of that kind's spec, and the
``targets:`` overrides (taken out and merged by the loader before validation)."""
