"""The Databricks write calls against the sandbox, through the real databricks-sdk."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from apply.sdk_workspace import client_for, run
from databricks.sdk import WorkspaceClient

from reconciler.apply import COMMIT_TAG
from reconciler.model.changes import Action, Change, FieldDiff
from reconciler.model.live import OWNER_TAG
from reconciler.sandbox import SandboxConfig, SandboxServer

MODEL = "main.support.intent"
LLAMA = "databricks-meta-llama-3-3-70b-instruct"


def ch(kind: str, name: str, action: Action = Action.CREATE, **kw: Any) -> Change:
    return Change(address=f"{kind}.{name}", kind=kind, name=name, action=action, **kw)


def endpoint_doc(version: int, *, traffic: int = 100, **extra: Any) -> dict[str, Any]:
    entities = [
        {
            "name": "champion",
            "entity": MODEL,
            "version": version,
            "workload_size": "Small",
            "scale_to_zero": True,
        },
    ]
    doc: dict[str, Any] = {"name": "ep", "served_entities": entities, "traffic": {"champion": 100}}
    doc.update(extra)
    return doc


def get(client: WorkspaceClient, path: str) -> dict[str, Any]:
    doc = client.api_client.do("GET", path)
    assert isinstance(doc, dict)
    return doc


def tags_of(doc: dict[str, Any], key: str = "tags") -> dict[str, str]:
    return {t["key"]: t.get("value", "") for t in doc.get(key) or []}


def test_registered_model_and_aliases(
    sandbox: SandboxServer, register_ready: Callable[[str], int]
) -> None:
    client = client_for(sandbox.url)
    result = run(
        client,
        ch(
            "registered_model",
            "main.support.fresh",
            desired={
                "name": "main.support.fresh",
                "comment": "Routes tickets",
                "tags": {"team": "support"},
            },
        ),
    )
    assert result.ok, result.summary_lines()
    info = client.registered_models.get("main.support.fresh")
    assert info.comment == "Routes tickets"
    tags = tags_of(get(client, "/api/2.1/unity-catalog/securable-tags/FUNCTION/main.support.fresh"))
    assert tags == {"team": "support", OWNER_TAG: "demo"}

    v1, v2 = register_ready(MODEL), register_ready(MODEL)
    alias = ch(
        "model_alias",
        f"{MODEL}@champion",
        desired={"model": MODEL, "alias": "champion", "version": v2, "approval": "CHG-1"},
    )
    assert run(client, alias).ok
    assert client.model_versions.get_by_alias(MODEL, "champion").version == v2
    version = client.api_client.do(
        "GET",
        "/api/2.0/mlflow/unity-catalog/model-versions/get",
        query={"name": MODEL, "version": str(v2)},
    )
    assert isinstance(version, dict)
    vtags = {t["key"]: t["value"] for t in version["model_version"]["tags"]}
    assert vtags["reconciler.approval.champion"] == "CHG-1"
    assert "(project demo) approval CHG-1" in vtags["reconciler.promoted.champion"]
    moved = ch(
        "model_alias",
        f"{MODEL}@champion",
        Action.UPDATE,
        desired={"model": MODEL, "alias": "champion", "version": v1},
    )
    assert run(client, moved).ok
    assert client.model_versions.get_by_alias(MODEL, "champion").version == v1
    gone = ch("model_alias", f"{MODEL}@champion", Action.DELETE)
    assert run(client, gone).ok
    assert run(client, gone).ok, "deleting an alias already gone is a no-op"


def test_endpoint_create_update_tags_and_gateway(
    sandbox: SandboxServer, register_ready: Callable[[str], int]
) -> None:
    client = client_for(sandbox.url)
    v1, v2 = register_ready(MODEL), register_ready(MODEL)
    create = ch(
        "serving_endpoint",
        "ep",
        desired=endpoint_doc(
            v1, tags={"team": "support", "tier": "1"}, ai_gateway={"usage_tracking": True}
        ),
    )
    result = run(client, create, commit="abc123")
    assert result.ok, result.summary_lines()
    live = get(client, "/api/2.0/serving-endpoints/ep")
    assert live["state"]["config_update"] == "NOT_UPDATING"
    assert tags_of(live) == {
        "team": "support",
        "tier": "1",
        OWNER_TAG: "demo",
        COMMIT_TAG: "abc123",
    }

    # Someone sets rate limits (a quota) directly; the endpoint update must keep them.
    client.api_client.do(
        "PUT",
        "/api/2.0/serving-endpoints/ep/ai-gateway",
        body={
            "usage_tracking_config": {"enabled": True},
            "rate_limits": [{"key": "user", "calls": 5, "renewal_period": "minute"}],
        },
    )
    desired = endpoint_doc(
        v2, tags={"team": "search"}, ai_gateway={"usage_tracking": True, "fallbacks": True}
    )
    update = ch(
        "serving_endpoint",
        "ep",
        Action.UPDATE,
        desired=desired,
        diffs=(
            FieldDiff(path="served_entities.champion.version", before=v1, after=v2),
            FieldDiff(path="ai_gateway.fallbacks", before=None, after=True),
            FieldDiff(path="tags.team", before="support", after="search"),
            FieldDiff(path="tags.tier", before="1", after=None),
        ),
    )
    result = run(client, update, commit="def456")
    assert result.ok, result.summary_lines()
    live = get(client, "/api/2.0/serving-endpoints/ep")
    assert live["config"]["served_entities"][0]["entity_version"] == str(v2)
    assert live["ai_gateway"]["fallback_config"] == {"enabled": True}
    assert live["ai_gateway"]["rate_limits"] == [
        {"key": "user", "calls": 5, "renewal_period": "minute"}
    ]
    assert tags_of(live) == {"team": "search", OWNER_TAG: "demo", COMMIT_TAG: "def456"}


def test_quota_on_a_foundation_endpoint_keeps_its_other_gateway_settings(
    sandbox: SandboxServer,
) -> None:
    client = client_for(sandbox.url)
    client.api_client.do(
        "PUT",
        f"/api/2.0/serving-endpoints/{LLAMA}/ai-gateway",
        body={
            "usage_tracking_config": {"enabled": True},
            "guardrails": {"input": {"safety": True}},
        },
    )
    quota = ch(
        "quota",
        LLAMA,
        desired={
            "endpoint": LLAMA,
            "rate_limits": [
                {"key": "user_group", "principal": "support-agents", "tokens_per_minute": 20000},
                {"key": "endpoint", "calls_per_minute": 1000},
            ],
        },
    )
    assert run(client, quota).ok
    gateway = get(client, f"/api/2.0/serving-endpoints/{LLAMA}")["ai_gateway"]
    assert gateway["usage_tracking_config"] == {"enabled": True}
    assert gateway["guardrails"]["input"]["safety"] is True
    assert {(r["key"], r.get("calls"), r.get("tokens")) for r in gateway["rate_limits"]} == {
        ("user_group", None, 20000),
        ("endpoint", 1000, None),
    }
    assert run(client, ch("quota", LLAMA, Action.DELETE)).ok
    gateway = get(client, f"/api/2.0/serving-endpoints/{LLAMA}")["ai_gateway"]
    assert not gateway.get("rate_limits") and gateway["usage_tracking_config"] == {"enabled": True}


def test_busy_endpoint_is_waited_for(
    sandbox_factory: Callable[..., SandboxServer], register_ready: Callable[[str], int]
) -> None:
    config = SandboxConfig.fast()
    config.delays.config_update = 0.4
    server = sandbox_factory(config)
    client = client_for(server.url)
    from reconciler.sandbox import register_version

    v1 = register_version(client, MODEL).version
    assert run(client, ch("serving_endpoint", "ep", desired=endpoint_doc(v1))).ok
    # Another actor starts an update; ours arrives while it is IN_PROGRESS (409).
    client.api_client.do(
        "PUT",
        "/api/2.0/serving-endpoints/ep/config",
        body={
            "served_entities": [
                {
                    "name": "champion",
                    "entity_name": MODEL,
                    "entity_version": str(v1),
                    "workload_size": "Medium",
                    "scale_to_zero_enabled": True,
                }
            ]
        },
    )
    update = ch(
        "serving_endpoint",
        "ep",
        Action.UPDATE,
        desired=endpoint_doc(v1),
        diffs=(
            FieldDiff(
                path="served_entities.champion.workload_size", before="Medium", after="Small"
            ),
        ),
    )
    result = run(client, update)
    assert result.ok, result.summary_lines()
    live = get(client, "/api/2.0/serving-endpoints/ep")
    assert live["config"]["served_entities"][0]["workload_size"] == "Small"


def test_update_failed_is_a_failure_carrying_the_endpoint_state(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    config = SandboxConfig.fast()
    config.delays.config_update = 0.5
    server = sandbox_factory(config)
    client = client_for(server.url)
    from reconciler.sandbox import register_version, set_version_status

    v1 = register_version(client, MODEL).version
    assert v1 is not None
    create = ch("serving_endpoint", "ep", desired=endpoint_doc(v1))
    dependent = ch(
        "quota",
        "ep",
        depends_on=("serving_endpoint.ep",),
        desired={"endpoint": "ep", "rate_limits": [{"key": "endpoint", "calls_per_minute": 10}]},
    )

    def break_version() -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            state = get(client, "/api/2.0/serving-endpoints/ep")["state"] if _exists(client) else {}
            if state.get("config_update") == "IN_PROGRESS":
                set_version_status(client, MODEL, v1, "FAILED_REGISTRATION")
                return
            time.sleep(0.02)

    breaker = threading.Thread(target=break_version)
    breaker.start()
    result = run(client, create, dependent)
    breaker.join()
    assert [r.address for r in result.failed] == ["serving_endpoint.ep"]
    assert "UPDATE_FAILED" in (result.failed[0].message or "")
    assert [r.address for r in result.skipped] == ["quota.ep"]


def _exists(client: WorkspaceClient) -> bool:
    try:
        get(client, "/api/2.0/serving-endpoints/ep")
    except Exception:
        return False
    return True


def test_server_errors_and_throttling_are_retried(
    sandbox: SandboxServer, register_ready: Callable[[str], int]
) -> None:
    client = client_for(sandbox.url)
    v1 = register_ready(MODEL)
    requests.post(
        f"{sandbox.url}/sandbox/faults",
        json={
            "fail_operations": {
                "serving_endpoints.create": {"status": 500, "times": 2},
                "serving_endpoints.get": {"status": 429, "times": 1},
                "serving_endpoints.patch": {"status": 503, "times": 1},
            },
            "retry_after": 1,
        },
        timeout=5,
    )
    create = ch("serving_endpoint", "ep", desired=endpoint_doc(v1))
    result = run(client, create)
    assert result.ok, result.summary_lines()
    assert get(client, "/api/2.0/serving-endpoints/ep")["state"]["config_update"] == "NOT_UPDATING"


def test_lasting_errors_fail_with_the_api_message(sandbox: SandboxServer) -> None:
    client = client_for(sandbox.url)
    requests.post(
        f"{sandbox.url}/sandbox/faults",
        json={"fail_operations": {"mlflow.create_registered_model": {"status": 500}}},
        timeout=5,
    )
    model = ch("registered_model", "main.support.m", desired={"name": "main.support.m"})
    result = run(client, model, retry_budget=0.5)
    assert [r.address for r in result.failed] == [model.address]
    assert "INTERNAL_ERROR" in (result.failed[0].message or "")
    assert "Injected failure" in (result.failed[0].message or "")


def test_vector_search_endpoint_and_index_replace(sandbox: SandboxServer) -> None:
    client = client_for(sandbox.url)
    vs = ch(
        "vector_search_endpoint",
        "docs-vs",
        desired={"name": "docs-vs", "type": "STANDARD", "tags": {"team": "search"}},
    )
    index_doc = {
        "name": "main.support.docs_index",
        "endpoint": "docs-vs",
        "primary_key": "id",
        "direct_access": {"schema": {"id": "int", "text": "string"}},
    }
    index = ch(
        "vector_index",
        "main.support.docs_index",
        desired=index_doc,
        depends_on=("vector_search_endpoint.docs-vs",),
    )
    result = run(client, vs, index)
    assert result.ok, result.summary_lines()
    ep = get(client, "/api/2.0/vector-search/endpoints/docs-vs")
    assert ep["endpoint_status"]["state"] == "ONLINE"
    # The endpoint also carries the index's ownership marker (the index has no tags).
    assert tags_of(ep, "custom_tags") == {
        "team": "search",
        OWNER_TAG: "demo",
        "reconciler.index.main.support.docs_index": "demo",
    }
    assert get(client, "/api/2.0/vector-search/indexes/main.support.docs_index")["status"]["ready"]

    rebuilt = dict(index_doc, primary_key="doc_id")
    replace = ch("vector_index", "main.support.docs_index", Action.REPLACE, desired=rebuilt)
    result = run(client, replace)
    assert result.ok, result.summary_lines()
    live = get(client, "/api/2.0/vector-search/indexes/main.support.docs_index")
    assert live["primary_key"] == "doc_id" and live["status"]["ready"]


def test_endpoint_replace_keeps_the_quota_rate_limits(
    sandbox: SandboxServer, register_ready: Callable[[str], int]
) -> None:
    client = client_for(sandbox.url)
    v1 = register_ready(MODEL)
    assert run(client, ch("serving_endpoint", "ep", desired=endpoint_doc(v1))).ok
    limits = [{"key": "endpoint", "calls": 50, "renewal_period": "minute"}]
    client.api_client.do(
        "PUT", "/api/2.0/serving-endpoints/ep/ai-gateway", body={"rate_limits": limits}
    )
    before = get(client, "/api/2.0/serving-endpoints/ep")["id"]
    replace = ch(
        "serving_endpoint", "ep", Action.REPLACE, desired=endpoint_doc(v1, route_optimized=True)
    )
    result = run(client, replace)
    assert result.ok, result.summary_lines()
    live = get(client, "/api/2.0/serving-endpoints/ep")
    assert live["id"] != before and live["route_optimized"] is True
    assert live["ai_gateway"]["rate_limits"] == limits


def test_endpoint_replace_carries_what_the_manifest_does_not_set(
    sandbox: SandboxServer, register_ready: Callable[[str], int]
) -> None:
    client = client_for(sandbox.url)
    v1 = register_ready(MODEL)
    created = endpoint_doc(v1, description="intent routing")
    del created["served_entities"][0]["scale_to_zero"]
    assert run(client, ch("serving_endpoint", "ep", desired=created)).ok
    entity = {
        "name": "champion",
        "entity_name": MODEL,
        "entity_version": str(v1),
        "workload_size": "Small",
        "scale_to_zero_enabled": True,
        "instance_profile_arn": "arn:aws:iam::123:instance-profile/serving",
        "environment_vars": {"LOG_LEVEL": "debug"},
    }
    path = "/api/2.0/serving-endpoints/ep"
    client.api_client.do("PUT", f"{path}/config", body={"served_entities": [entity]})
    gateway = {"guardrails": {"output": {"pii": {"behavior": "MASK"}}}}
    client.api_client.do("PUT", f"{path}/ai-gateway", body=gateway)
    notify = {"email_notifications": {"on_update_failure": ["ops@example.com"]}}
    client.api_client.do("PATCH", f"{path}/notifications", body=notify)
    client.api_client.do(
        "PATCH", f"{path}/tags", body={"add_tags": [{"key": "team", "value": "x"}]}
    )
    for _ in range(500):
        if get(client, path)["state"]["config_update"] == "NOT_UPDATING":
            break
        time.sleep(0.01)
    rebuilt = endpoint_doc(v1, route_optimized=True)
    del rebuilt["served_entities"][0]["scale_to_zero"]
    result = run(client, ch("serving_endpoint", "ep", Action.REPLACE, desired=rebuilt))
    assert result.ok, result.summary_lines()
    live = get(client, path)
    assert live["route_optimized"] is True
    (after,) = live["config"]["served_entities"]
    assert {k: after.get(k) for k in entity} == entity
    assert live["ai_gateway"]["guardrails"] == gateway["guardrails"]
    assert live["email_notifications"] == notify["email_notifications"]
    assert live["description"] == "intent routing"
    assert tags_of(live)["team"] == "x"
