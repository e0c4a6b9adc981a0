"""Timeouts per kind: defaults at least Terraform's, settable per target and per run."""

from __future__ import annotations

import pytest

from reconciler.cli.apply import _kind_timeouts
from reconciler.kinds.registry import rules_for
from reconciler.model.resources import KindName
from reconciler.project import Target, parse_duration
from reconciler.runtime.settings import ApplySettings


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(90, 90.0), ("90", 90.0), ("90s", 90.0), ("45m", 2700.0), ("1h30m", 5400.0), ("2h", 7200.0)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "-5", "0", "1d", True, "8 days", "200h"])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_defaults_are_at_least_terraforms() -> None:
    minutes = {k: rules_for(k).apply_timeout / 60 for k in KindName}
    assert minutes[KindName.SERVING_ENDPOINT] >= 45
    assert minutes[KindName.VECTOR_SEARCH_ENDPOINT] >= 75
    assert minutes[KindName.VECTOR_INDEX] >= 75
    assert all(m >= 20 for m in minutes.values())


def test_the_run_wins_over_the_target_which_wins_over_the_kind() -> None:
    target = Target.model_validate({"type": "sandbox", "timeouts": {"vector_index": "2h"}})
    assert target.timeouts == {KindName.VECTOR_INDEX: 7200.0}
    settings = ApplySettings(timeouts={str(k): v for k, v in target.timeouts.items()})
    assert settings.timeout_for("vector_index", 60) == 7200.0
    assert settings.timeout_for("serving_endpoint", 2700.0) == 2700.0
    run = _kind_timeouts(("30m", "vector_index=3h"))
    assert run["serving_endpoint"] == 1800.0 and run["vector_index"] == 10800.0
    merged = ApplySettings(timeouts={**settings.timeouts, **run})
    assert merged.timeout_for("vector_index", 60) == 10800.0


def test_a_target_naming_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="timeouts"):
        Target.model_validate({"type": "sandbox", "timeouts": {"vector_indexes": "1h"}})
