"""Prune of the kinds without tags of their own (aliases, indexes, quotas), end to end.

Apply marks them on the asset that holds them; after they leave the manifests, a pruning plan
shows exactly their delete, apply refuses it without --allow-delete and carries it out with it,
and the plan is empty again. Unmarked live assets are never planned for delete.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from apply.e2e_helpers import clear_faults, edit, fast_sandbox, live_client, run, seed

from reconciler.sandbox import register_version

PROJECT = "support-assistant"
CLF = "main.support.intent_classifier"
SUM = "main.support.ticket_summarizer"
LLAMA = "databricks-meta-llama-3-3-70b-instruct"
INDEX = "main.support.docs_index"


def _plan(project: Path) -> dict[str, Any]:
    result = run(project, "plan", "--format", "json")
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def _changes(project: Path) -> list[tuple[str, str]]:
    return [(c["address"], c["action"]) for c in _plan(project)["changes"]]


def _empty(project: Path) -> None:
    result = run(project, "plan", "--detailed-exitcode")
    assert result.exit_code == 0, result.output


def _model_tags(w: Any, model: str) -> dict[str, str]:
    doc = w.api_client.do(
        "GET", "/api/2.0/mlflow/unity-catalog/registered-models/get", query={"name": model}
    )
    return {t["key"]: t.get("value", "") for t in doc["registered_model"].get("tags", [])}


def _tags(items: Any) -> dict[str, str]:
    return {t["key"]: t.get("value", "") for t in items or []}


@pytest.fixture
def applied(example_project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example project applied to its sandbox target, which prunes."""
    fast_sandbox(monkeypatch)
    edit(
        example_project / "reconciler.yaml",
        "  sandbox:\n    type: sandbox\n",
        "  sandbox:\n    type: sandbox\n    prune: true\n",
    )
    seed(example_project)
    done = run(example_project, "apply", "--auto-approve")
    assert done.exit_code == 0, done.output
    _empty(example_project)
    return example_project


def test_apply_writes_the_markers_and_they_are_never_drift(applied: Path) -> None:
    with live_client(applied) as w:
        assert _model_tags(w, CLF)[f"reconciler.aliases.{PROJECT}"] == "challenger,champion"
        assert _model_tags(w, SUM)[f"reconciler.aliases.{PROJECT}"] == "champion"
        vs = w.api_client.do("GET", "/api/2.0/vector-search/endpoints/docs-vs")
        assert _tags(vs["custom_tags"])[f"reconciler.index.{INDEX}"] == PROJECT
        llama = w.api_client.do("GET", f"/api/2.0/serving-endpoints/{LLAMA}")
        assert _tags(llama["tags"])["reconciler.quota"] == PROJECT


def _drop_alias(project: Path) -> None:
    edit(project / "manifests" / "models.yaml", "    aliases:\n      champion: 1\n", "")


def _drop_index(project: Path) -> None:
    path = project / "manifests" / "vector_search.yaml"
    text = path.read_text()
    path.write_text(text[: text.index("vector_indexes:")])


def _drop_quota(project: Path) -> None:
    (project / "manifests" / "quotas.yaml").unlink()


@pytest.mark.parametrize(
    ("drop", "address"),
    [
        (_drop_alias, f"model_alias.{SUM}@champion"),
        (_drop_index, f"vector_index.{INDEX}"),
        (_drop_quota, f"quota.{LLAMA}"),
    ],
    ids=["alias", "index", "quota"],
)
def test_an_asset_that_left_the_manifests_is_pruned(applied: Path, drop: Any, address: str) -> None:
    drop(applied)
    assert _changes(applied) == [(address, "delete")]

    refused = run(applied, "apply", "--auto-approve")
    assert refused.exit_code == 1
    assert "--allow-delete" in refused.output and address in refused.output
    assert _changes(applied) == [(address, "delete")]  # nothing was applied

    done = run(applied, "apply", "--auto-approve", "--allow-delete")
    assert done.exit_code == 0, done.output
    _empty(applied)
    with live_client(applied) as w:
        if address.startswith("model_alias."):
            model = w.registered_models.get(SUM, include_aliases=True)
            assert not model.aliases
            assert f"reconciler.aliases.{PROJECT}" not in _model_tags(w, SUM)
            # The other model's aliases (and their inventory) are untouched.
            assert _model_tags(w, CLF)[f"reconciler.aliases.{PROJECT}"] == "challenger,champion"
        elif address.startswith("vector_index."):
            indexes = w.vector_search_indexes.list_indexes("docs-vs")
            assert [i.name for i in indexes] == []
            vs = w.api_client.do("GET", "/api/2.0/vector-search/endpoints/docs-vs")
            tags = _tags(vs["custom_tags"])
            assert f"reconciler.index.{INDEX}" not in tags
            assert tags["team"] == "support"
        else:
            llama = w.api_client.do("GET", f"/api/2.0/serving-endpoints/{LLAMA}")
            assert "reconciler.quota" not in _tags(llama.get("tags"))
            assert not (llama.get("ai_gateway") or {}).get("rate_limits")


def test_a_quota_delete_keeps_the_other_ai_gateway_settings(applied: Path) -> None:
    with live_client(applied) as w:
        gateway = w.api_client.do("GET", f"/api/2.0/serving-endpoints/{LLAMA}")["ai_gateway"]
        gateway["usage_tracking_config"] = {"enabled": True}
        gateway["guardrails"] = {"input": {"safety": True}}
        w.api_client.do("PUT", f"/api/2.0/serving-endpoints/{LLAMA}/ai-gateway", body=gateway)
    _empty(applied)  # nobody here manages that endpoint's other settings
    _drop_quota(applied)
    done = run(applied, "apply", "--auto-approve", "--allow-delete")
    assert done.exit_code == 0, done.output
    with live_client(applied) as w:
        after = w.api_client.do("GET", f"/api/2.0/serving-endpoints/{LLAMA}")["ai_gateway"]
    assert not after.get("rate_limits")
    assert after["usage_tracking_config"] == {"enabled": True}
    assert after["guardrails"]["input"]["safety"] is True
    _empty(applied)


def test_unmarked_live_assets_are_never_planned_for_delete(applied: Path) -> None:
    """Made behind the tool's back: an alias, an index and rate limits nobody marked."""
    with live_client(applied) as w:
        w.registered_models.set_alias(SUM, "shadow", 1)
        w.api_client.do(
            "POST",
            "/api/2.0/vector-search/indexes",
            body={
                "name": "main.support.other_index",
                "endpoint_name": "docs-vs",
                "primary_key": "id",
                "index_type": "DIRECT_ACCESS",
                "direct_access_index_spec": {"schema_json": '{"id": "int"}'},
            },
        )
        bge = "databricks-bge-large-en"
        live = w.api_client.do("GET", f"/api/2.0/serving-endpoints/{bge}")
        gateway = dict(live.get("ai_gateway") or {})
        gateway["rate_limits"] = [{"key": "endpoint", "calls": 5, "renewal_period": "minute"}]
        w.api_client.do("PUT", f"/api/2.0/serving-endpoints/{bge}/ai-gateway", body=gateway)
    assert _changes(applied) == []
    # Beside them, the marked ones leave the manifests: only those are deleted.
    _drop_alias(applied)
    _drop_index(applied)
    _drop_quota(applied)
    assert set(_changes(applied)) == {
        (f"model_alias.{SUM}@champion", "delete"),
        (f"vector_index.{INDEX}", "delete"),
        (f"quota.{LLAMA}", "delete"),
    }


def test_a_crash_between_marker_and_asset_converges_on_the_rerun(
    applied: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The marker is written first: when the alias write then fails, the re-run sets it."""
    with live_client(applied) as w:
        register_version(w, SUM)  # version 2
    edit(
        applied / "manifests" / "models.yaml",
        "      champion: 1\n",
        "      champion: 1\n      shadow: 2\n",
    )
    monkeypatch.setenv("RECONCILER_SANDBOX_FAIL_OPERATIONS", "registered_models.set_alias=400")
    failed = run(applied, "apply", "--auto-approve")
    assert failed.exit_code == 1
    with live_client(applied) as w:
        inventory = _model_tags(w, SUM)[f"reconciler.aliases.{PROJECT}"]
        assert inventory == "champion,shadow"  # marked, not yet set
    assert _changes(applied) == [(f"model_alias.{SUM}@shadow", "create")]
    clear_faults(monkeypatch)
    done = run(applied, "apply", "--auto-approve")
    assert done.exit_code == 0, done.output
    _empty(applied)
    with live_client(applied) as w:
        aliases = w.registered_models.get(SUM, include_aliases=True).aliases or []
        assert {(a.alias_name, a.version_num) for a in aliases} == {("champion", 1), ("shadow", 2)}
