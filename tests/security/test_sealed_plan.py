"""Plan files seal secret references; apply accepts them only when they still hash the same as
the references planned now."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.model.changes import Action, Change, Plan, summarize
from reconciler.plan import planfile
from reconciler.plan.sealed import first_mismatch, seal

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


def test_saved_plan_names_no_secret_and_matches_the_original(tmp_path: Path) -> None:
    original = _plan({"K": REF, "B": f"Bearer {REF}", "PLAIN": "x"})
    path = planfile.save(original, tmp_path / "plan.json")
    text = path.read_text()
    assert "scope-x" not in text and "key-y" not in text and "{{secrets" not in text
    env = json.loads(text)["changes"][0]["desired"]["served_entities"][0]["environment_vars"]
    assert env["PLAIN"] == "x" and env["K"].startswith("(secret sha256:")
    saved = planfile.load(path).changes[0].model_dump(mode="json")
    assert first_mismatch(saved, original.changes[0].model_dump(mode="json")) is None


def test_salt_differs_per_saved_plan() -> None:
    plan = _plan({"K": REF})
    assert seal(plan) != seal(plan)
    assert seal(plan, "0" * 16) == seal(plan, "0" * 16)


@pytest.mark.parametrize("now", [{"K": "{{secrets/scope-x/other}}"}, {}, {"K": "plain"}])
def test_changed_reference_is_found_at_its_field(now: dict[str, str]) -> None:
    sealed = seal(_plan({"K": REF})).changes[0].desired
    found = first_mismatch(sealed, _plan(now).changes[0].desired)
    # A marker facing another string is a secret mismatch; a field gone is a plain one.
    assert found == ("served_entities.0.environment_vars.K", bool(now))
