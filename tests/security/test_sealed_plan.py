"""Plan files seal secret references; apply fills them back only when they still hash the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.model.changes import Action, Change, Plan, summarize
from reconciler.model.errors import ApplyError
from reconciler.plan import planfile
from reconciler.plan.sealed import seal, unseal

REF = "{{secrets/scope-x/key-y}}"


def _plan(env: dict[str, str]) -> Plan:
    doc = {"name": "ep", "served_entities": [{"name": "a", "environment_vars": env}]}
    change = Change(
        address="serving_endpoint.ep",
        kind="serving_endpoint",
        name="ep",
        action=Action.CREATE,
        desired=doc,
    )
    return Plan(project="p", target="t", changes=(change,), summary=summarize((change,)))


def test_saved_plan_names_no_secret_and_unseals_to_the_original(tmp_path: Path) -> None:
    original = _plan({"K": REF, "B": f"Bearer {REF}", "PLAIN": "x"})
    path = planfile.save(original, tmp_path / "plan.json")
    text = path.read_text()
    assert "scope-x" not in text and "key-y" not in text and "{{secrets" not in text
    env = json.loads(text)["changes"][0]["desired"]["served_entities"][0]["environment_vars"]
    assert env["PLAIN"] == "x" and env["K"].startswith("(secret sha256:")
    assert unseal(planfile.load(path), original, "plan.json", "t") == original


def test_salt_differs_per_saved_plan() -> None:
    plan = _plan({"K": REF})
    assert seal(plan) != seal(plan)
    assert seal(plan, "0" * 16) == seal(plan, "0" * 16)


@pytest.mark.parametrize("now", [{"K": "{{secrets/scope-x/other}}"}, {}, {"K": "plain"}])
def test_changed_reference_is_a_stale_plan_naming_asset_and_field(now: dict[str, str]) -> None:
    with pytest.raises(ApplyError) as caught:
        unseal(seal(_plan({"K": REF})), _plan(now), "plan.json", "t")
    message = str(caught.value.message)
    assert "stale" in message and "serving_endpoint.ep" in message
    assert "served_entities.0.environment_vars.K" in message
    assert "scope-x" not in message and "other" not in message
