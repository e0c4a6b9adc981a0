"""A saved plan applies only when planning again gives exactly it; the error names the first
difference. (The end-to-end tamper suite is tests/e2e/test_plan_file_tamper_e2e.py.)"""

from __future__ import annotations

import json

import pytest

from reconciler.model.changes import Action, Change, FieldDiff, Plan, summarize
from reconciler.model.digest import ManifestDigest
from reconciler.model.errors import ApplyError
from reconciler.plan import planfile
from reconciler.plan.exact import check_exact, check_identity, first_difference

M = "c.s.m"
REF = "{{secrets/scope-x/key-y}}"
FILES = {"reconciler.yaml": b"project: p\n", "manifests/m.yaml": b"registered_models: []\n"}


def _alias(version: int = 4) -> Change:
    return Change(
        address=f"model_alias.{M}@a",
        kind="model_alias",
        name=f"{M}@a",
        action=Action.UPDATE,
        diffs=(FieldDiff(path="version", before=3, after=version),),
        depends_on=(f"registered_model.{M}",),
        desired={"model": M, "alias": "a", "version": version},
    )


def _endpoint(secret: str = REF) -> Change:
    return Change(
        address="serving_endpoint.ep",
        kind="serving_endpoint",
        name="ep",
        action=Action.UPDATE,
        diffs=(FieldDiff(path="tags.team", before="a", after="b"),),
        desired={
            "name": "ep",
            "served_entities": [{"name": "x", "environment_vars": {"K": secret}}],
        },
    )


def _plan(*changes: Change, fingerprint: str = "f" * 64, files: dict[str, bytes] = FILES) -> Plan:
    return Plan(
        project="p",
        target="dev",
        changes=changes,
        summary=summarize(changes),
        fingerprint=fingerprint,
        manifests=ManifestDigest.of_bytes(files),
    )


def _saved(plan: Plan) -> Plan:
    """The plan as ``apply`` reads it back from ``plan -o`` (sealed secrets and all)."""
    return planfile.loads(planfile.dumps(plan), source="plan.json")


def _refusal(saved: Plan, fresh: Plan) -> str:
    with pytest.raises(ApplyError) as caught:
        check_exact(saved, fresh, "plan.json")
    message = caught.value.message
    assert message.endswith("nothing was applied"), message
    assert "reconciler plan -t dev -o plan.json" in (caught.value.hint or "")
    return message


def test_the_same_plan_read_back_passes_secrets_and_all() -> None:
    fresh = _plan(_alias(), _endpoint())
    saved = _saved(fresh)
    assert "scope-x" not in planfile.dumps(fresh)
    check_exact(saved, fresh, "plan.json")


def test_edited_action_is_named_with_both_values() -> None:
    fresh = _plan(_alias(), _endpoint())
    doc = json.loads(planfile.dumps(fresh))
    doc["changes"][1]["action"] = "delete"
    doc["summary"] = {"create": 0, "update": 1, "replace": 0, "delete": 1, "adopt": 0}
    saved = planfile.loads(json.dumps(doc), source="plan.json")
    assert _refusal(saved, fresh).startswith(
        "plan.json is not the plan the manifests and the workspace give now: change 2"
        " (serving_endpoint.ep): action is delete in the plan file, update now"
    )


def test_edited_value_in_a_diff_and_in_the_desired_document() -> None:
    fresh = _plan(_alias(4))
    edited = _plan(_alias(4)).model_copy(update={"changes": (_alias(5),)})
    assert "field version is 3 -> 5 in the plan file, 3 -> 4 now" in _refusal(_saved(edited), fresh)
    sneaky = _alias(4).model_copy(update={"desired": {"model": M, "alias": "a", "version": 5}})
    message = _refusal(_saved(fresh.model_copy(update={"changes": (sneaky,)})), fresh)
    assert "change 1 (model_alias.c.s.m@a): the desired document differs at version" in message


def test_type_confusion_is_a_difference() -> None:
    fresh = _plan(_alias(4))
    doc = json.loads(planfile.dumps(fresh))
    doc["changes"][0]["desired"]["version"] = 4.0
    assert "differs at version" in _refusal(planfile.loads(json.dumps(doc)), fresh)


def test_added_dropped_and_reordered_changes() -> None:
    fresh = _plan(_alias(), _endpoint())
    added = _saved(_plan(_alias(), _endpoint(), _alias().model_copy(update={"address": "x.y"})))
    assert "change 3 (x.y, update) is in the plan file but is not planned now" in _refusal(
        added, fresh
    )
    dropped = _saved(_plan(_alias()))
    assert "change 2 (serving_endpoint.ep, update) is planned now but is not in the plan file" in (
        _refusal(dropped, fresh)
    )
    reordered = _saved(_plan(_endpoint(), _alias()))
    assert (
        "change 1 is serving_endpoint.ep in the plan file, model_alias.c.s.m@a now;"
        " serving_endpoint.ep is change 2 now"
    ) in _refusal(reordered, fresh)


def test_changed_secret_reference_names_asset_and_field_never_the_value() -> None:
    saved = _saved(_plan(_endpoint()))
    fresh = _plan(_endpoint("{{secrets/scope-x/other}}"))
    message = _refusal(saved, fresh)
    assert "change 1 (serving_endpoint.ep): the secret reference at desired" in message
    assert "served_entities.0.environment_vars.K" in message
    assert "scope-x" not in message and "other" not in message


def test_other_manifests_name_each_file() -> None:
    saved = _saved(_plan(_alias()))
    files = {**FILES, "reconciler.yaml": b"project: p\n# edited\n", "manifests/n.yaml": b"{}"}
    message = _refusal(saved, _plan(_alias(), files=files))
    assert "planned from other manifests: manifests/n.yaml (added), reconciler.yaml (changed)" in (
        message
    )
    forged = saved.model_copy(
        update={"manifests": ManifestDigest(digest="0" * 64, files=saved.manifests.files)}  # type: ignore[union-attr]
    )
    assert "the digest in the file does not match its files" in _refusal(forged, _plan(_alias()))


def test_live_state_moved_is_stale_and_says_what_is_planned_differently() -> None:
    saved = _saved(_plan(_alias(4)))
    message = _refusal(saved, _plan(_alias(5), fingerprint="e" * 64))
    assert message.startswith("plan.json is stale: the live workspace changed since it was planned")
    assert "field version is 3 -> 4 in the plan file, 3 -> 5 now" in message
    assert "plan.json is stale" in _refusal(saved, _plan(_alias(4), fingerprint="e" * 64))


def test_project_target_summary_and_missing_digest_are_refused_before_reading() -> None:
    saved = _saved(_plan(_alias()))
    with pytest.raises(ApplyError, match="made for target 'dev', not 'prod'"):
        check_identity(saved, "p", "prod", "plan.json")
    with pytest.raises(ApplyError, match="made for project 'p', not 'q'"):
        check_identity(saved, "q", "dev", "plan.json")
    with pytest.raises(ApplyError, match="records no manifest digest"):
        check_identity(saved.model_copy(update={"manifests": None}), "p", "dev", "plan.json")
    lying = saved.model_copy(update={"summary": summarize(())})
    with pytest.raises(ApplyError, match=r"its summary \(0 create.*does not count its changes"):
        check_identity(lying, "p", "dev", "plan.json")


def test_no_difference_in_an_empty_plan() -> None:
    assert first_difference(_plan(), _plan()) is None


def test_a_difference_inside_an_object_diff_names_the_innermost_field() -> None:
    def entity(ref: str) -> Change:
        env = {"K": ref, "LOG": "info"}
        return _endpoint(ref).model_copy(
            update={
                "diffs": (FieldDiff(path="served_entities.x", after={"environment_vars": env}),)
            }
        )

    message = _refusal(_saved(_plan(entity(REF))), _plan(entity("{{secrets/scope-x/other}}")))
    assert "change 1 (serving_endpoint.ep): field served_entities.x.environment_vars.K (after)" in (
        message
    )
    assert "scope-x" not in message and "key-y" not in message and "(secret " in message


def test_a_plan_file_that_hides_or_invents_a_carried_field_is_refused() -> None:
    carried = ("served_entities.x.instance_profile_arn",)
    fresh = _plan(_endpoint().model_copy(update={"carried": carried}))
    doc = json.loads(planfile.dumps(fresh))
    doc["changes"][0]["carried"] = []  # the reviewer is no longer told the field is kept
    hidden = _refusal(planfile.loads(json.dumps(doc), source="plan.json"), fresh)
    assert (
        "change 1 (serving_endpoint.ep): carried is [] in the plan file,"
        ' ["served_entities.x.instance_profile_arn"] now'
    ) in hidden
    invented = _refusal(_saved(fresh), _plan(_endpoint()))
    assert "carried is [" in invented and "] in the plan file, [] now" in invented
