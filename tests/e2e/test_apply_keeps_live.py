"""Apply writes only what the plan shows: fields a target ignores and live fields the manifests
do not set keep their live values in every write (the example project on a sandbox).

Each test makes an out-of-band edit with the SDK or plain HTTP, as another team or a notebook
would, then a manifest change that does get applied, and checks what apply left alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apply.e2e_helpers import edit
from databricks.sdk.service.serving import EndpointTag
from fixtures.project import REPO_ROOT
from gitops.live import ENDPOINT, MODEL, LiveProject, start

from reconciler.model.errors import PlanError

API = "/api/2.0/serving-endpoints"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveProject]:
    project = start(tmp_path)
    yield project
    project.stop()


def ignore(live: LiveProject, *rules: str) -> None:
    """The example project's sandbox target, with these ignore rules (YAML flow mappings)."""
    lines = "".join(f"      - {rule}\n" for rule in rules)
    text = (REPO_ROOT / "reconciler.yaml").read_text()
    plain = "  sandbox:\n    type: sandbox\n"
    assert plain in text
    (live.root / "reconciler.yaml").write_text(text.replace(plain, f"{plain}    ignore:\n{lines}"))


def endpoint(live: LiveProject) -> dict[str, Any]:
    doc = live.sdk.api_client.do("GET", f"{API}/{ENDPOINT}")
    assert isinstance(doc, dict)
    return doc


def wait_settled(live: LiveProject) -> dict[str, Any]:
    for _ in range(500):
        doc = endpoint(live)
        if doc["state"]["config_update"] == "NOT_UPDATING":
            return doc
        time.sleep(0.01)
    raise AssertionError(f"{ENDPOINT} never settled")


def entities(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in doc["config"]["served_entities"]}


def routes(doc: dict[str, Any]) -> dict[str, int]:
    return {
        r["served_entity_name"]: r["traffic_percentage"]
        for r in doc["config"]["traffic_config"]["routes"]
    }


def put_config(live: LiveProject, edit_entity: dict[str, dict[str, Any]], **traffic: int) -> None:
    """Out of band: the live config with fields added to entities (by name) and, if given,
    another traffic split."""
    doc = wait_settled(live)
    keep = ("state", "creation_timestamp", "creator")
    served = [
        {k: v for k, v in e.items() if k not in keep} | edit_entity.get(e["name"], {})
        for e in doc["config"]["served_entities"]
    ]
    split = traffic or routes(doc)
    body = {
        "served_entities": served,
        "traffic_config": {
            "routes": [{"served_entity_name": n, "traffic_percentage": p} for n, p in split.items()]
        },
    }
    live.sdk.api_client.do("PUT", f"{API}/{ENDPOINT}/config", body=body)
    wait_settled(live)


def move_champion(live: LiveProject) -> None:
    """A reviewed manifest change that apply does write: champion 2 -> 3."""
    edit(
        live.root / "manifests" / "models.yaml",
        "champion: {version: 2, approval: CHG-2187}",
        "champion: {version: 3, approval: CHG-2201}",
    )


def shown(live: LiveProject) -> list[str]:
    return sorted(d.path for c in live.plan().plan.changes for d in c.diffs)


def test_ignored_tag_set_by_others_is_never_written_back(live: LiveProject) -> None:
    ignore(live, "{asset: 'serving_endpoint.*', fields: [tags.cost_center]}")
    live.sdk.serving_endpoints.patch(
        ENDPOINT, add_tags=[EndpointTag(key="cost_center", value="finops-7")]
    )
    edit(live.root / "manifests" / "serving.yaml", "team: ${var.team}", "team: platform")
    assert shown(live) == ["tags.team"]
    live.apply()
    tags = {t["key"]: t["value"] for t in endpoint(live)["tags"]}
    assert tags["team"] == "platform"
    assert tags["cost_center"] == "finops-7"
    assert live.plan().plan.empty


def test_ignored_tag_removed_by_others_is_not_added_back(live: LiveProject) -> None:
    ignore(live, "{asset: 'serving_endpoint.*', fields: [tags.cost_center]}")
    live.sdk.serving_endpoints.patch(ENDPOINT, delete_tags=["cost_center"])
    edit(live.root / "manifests" / "serving.yaml", "team: ${var.team}", "team: platform")
    live.apply()
    tags = {t["key"]: t["value"] for t in endpoint(live)["tags"]}
    assert "cost_center" not in tags and tags["team"] == "platform"


def test_ignored_traffic_keeps_the_live_split(live: LiveProject) -> None:
    ignore(live, "{asset: 'serving_endpoint.*', fields: [traffic]}")
    put_config(live, {}, champion=50, challenger=50)
    move_champion(live)
    assert "traffic.champion" not in shown(live)
    live.apply()
    after = endpoint(live)
    assert entities(after)["champion"]["entity_version"] == "3"
    assert routes(after) == {"champion": 50, "challenger": 50}
    assert live.plan().plan.empty


def test_ignored_traffic_naming_a_removed_entity_is_refused_at_plan_time(
    live: LiveProject,
) -> None:
    ignore(live, "{asset: 'serving_endpoint.*', fields: [traffic]}")
    path = live.root / "manifests" / "serving.yaml"
    text = path.read_text()
    start_at = text.index("      - name: challenger")
    end_at = text.index("    traffic:")
    path.write_text(
        text[:start_at] + text[end_at:].replace("{champion: 90, challenger: 10}", "{champion: 100}")
    )
    with pytest.raises(PlanError, match="challenger") as refused:
        live.plan()
    assert "traffic" in str(refused.value) and "ignore" in str(refused.value)


def test_config_update_keeps_entity_fields_the_manifest_does_not_set(live: LiveProject) -> None:
    put_config(
        live,
        {
            "champion": {
                "instance_profile_arn": "arn:aws:iam::123:instance-profile/serving",
                "workload_type": "GPU_SMALL",
            },
            "challenger": {"environment_vars": {"LOG_LEVEL": "debug"}},
        },
    )
    move_champion(live)
    changes = {c.address: c for c in live.plan().plan.changes}
    change = changes[f"serving_endpoint.{ENDPOINT}"]
    assert [d.path for d in change.diffs] == ["served_entities.champion.version"]
    assert set(change.carried) >= {
        "served_entities.champion.instance_profile_arn",
        "served_entities.champion.workload_type",
        "served_entities.challenger.environment_vars",
    }
    live.apply()
    after = entities(wait_settled(live))
    assert after["champion"]["entity_version"] == "3"
    assert after["champion"]["instance_profile_arn"] == "arn:aws:iam::123:instance-profile/serving"
    assert after["champion"]["workload_type"] == "GPU_SMALL"
    assert after["challenger"]["environment_vars"] == {"LOG_LEVEL": "debug"}
    assert live.plan().plan.empty


def test_gateway_update_keeps_guardrail_fields_the_manifest_leaves_unset(
    live: LiveProject,
) -> None:
    gateway = endpoint(live).get("ai_gateway") or {}
    gateway["guardrails"] = {
        "input": {"safety": False, "pii": {"behavior": "BLOCK"}},
        "output": {"safety": True},
    }
    live.sdk.api_client.do("PUT", f"{API}/{ENDPOINT}/ai-gateway", body=gateway)
    edit(
        live.root / "manifests" / "serving.yaml",
        "      usage_tracking: true\n",
        "      usage_tracking: true\n      guardrails: {input: {safety: true}}\n",
    )
    assert shown(live) == ["ai_gateway.guardrails.input.safety"]
    live.apply()
    guardrails = endpoint(live)["ai_gateway"]["guardrails"]
    assert guardrails["input"] == {"safety": True, "pii": {"behavior": "BLOCK"}}
    assert guardrails["output"] == {"safety": True}
    assert live.plan().plan.empty


def test_model_update_leaves_an_ignored_comment_alone(live: LiveProject) -> None:
    ignore(live, "{asset: 'registered_model.*', fields: [comment]}")
    live.sdk.registered_models.update(MODEL, comment="edited in the UI")
    edit(live.root / "manifests" / "models.yaml", 'tags: {team: "${var.team}"}', "tags: {team: ml}")
    assert shown(live) == ["tags.team"]
    live.apply()
    assert live.sdk.registered_models.get(MODEL).comment == "edited in the UI"
