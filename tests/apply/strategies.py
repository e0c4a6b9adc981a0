"""Hypothesis strategies the property tests share."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

versions = st.integers(min_value=1, max_value=3)
"""The model versions the property tests register."""


@st.composite
def served_entity(
    draw: st.DrawFn, name: str, model: str, *, by_alias: bool = True
) -> dict[str, Any]:
    """A manifest's served entity of ``model``: by alias ``name`` (when ``by_alias``) or by
    version, sized by workload size or by provisioned concurrency."""
    entity: dict[str, Any] = {"name": name, "scale_to_zero": draw(st.booleans())}
    if by_alias and draw(st.booleans()):
        entity["entity"] = f"{model}@{name}"
    else:
        entity["entity"], entity["version"] = model, draw(versions)
    if draw(st.booleans()):
        entity["workload_size"] = draw(st.sampled_from(["Small", "Medium"]))
    else:
        entity["min_provisioned_concurrency"] = 0
        entity["max_provisioned_concurrency"] = draw(st.sampled_from([4, 8]))
    return entity
