"""Spec models reject what the API would reject."""

import pytest
from pydantic import ValidationError

from reconciler.kinds.manifest_file import ManifestFile


def test_traffic_must_sum_to_100() -> None:
    with pytest.raises(ValidationError, match="sums to 90%"):
        ManifestFile.model_validate(
            {
                "serving_endpoints": [
                    {
                        "name": "ep",
                        "served_entities": [
                            {"name": "a", "entity": "c.s.m@champion"},
                            {"name": "b", "entity": "c.s.m", "version": 2},
                        ],
                        "traffic": {"a": 50, "b": 40},
                    }
                ]
            }
        )
