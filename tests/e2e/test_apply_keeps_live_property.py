"""Property: apply never writes a field the plan does not show.

For generated manifest sets and random ``ignore:`` rules, each example applies a first state,
edits the sandbox out of band (with the SDK and plain HTTP, as another team would) on ignored
fields and on fields the manifests do not set, applies a second state, and checks that every
edited field is as the edit left it and that a new plan is empty.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from apply.strategies import served_entity, versions
from databricks.sdk import WorkspaceClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from reconciler.adapters.databricks.client import sandbox_client
from reconciler.adapters.databricks.serving_config import ENTITY_INPUT
from reconciler.adapters.databricks.workspace import DatabricksWorkspace
from reconciler.apply import ApplySettings, execute
from reconciler.commands.plan import make_plan
from reconciler.manifest import load_project
from reconciler.sandbox import SandboxConfig, SandboxServer, register_versions_up_to

MODEL = "main.s.alpha"
LLAMA = "databricks-meta-llama-3-3-70b-instruct"
SERVING = "/api/2.0/serving-endpoints"
MODEL_TAGS = "/api/2.1/unity-catalog/securable-tags/FUNCTION"
VS = "/api/2.0/vector-search/endpoints"
APPLY = ApplySettings(poll_initial=0.01, poll_max=0.05, project="prop")
ARN = "arn:aws:iam::123:instance-profile/oob"

IGNORABLE = {
    "serving_endpoint.ep": ["tags.cost_center", "traffic", "served_entities.*.scale_to_zero"],
    "serving_endpoint.*": ["ai_gateway.usage_tracking"],
    "registered_model.*": ["comment", "tags.owner"],
    "quota.*": ["rate_limits.endpoint"],
    "vector_search_endpoint.vs": ["tags.owner"],
}
"""Ignore rules an example may draw: asset glob -> fields."""
UNSET_EDITS = ["instance_profile_arn", "environment_vars", "workload_type", "pii"]
"""Out-of-band edits of fields no manifest here sets (some no manifest can express)."""


@st.composite
def state(draw: st.DrawFn, two: bool) -> dict[str, Any]:
    """One manifest set; ``two``: the endpoint serves champion and challenger."""
    aliases = {"champion": draw(versions), "challenger": draw(versions)}
    model = {
        "name": MODEL,
        "comment": draw(st.sampled_from(["first", "second"])),
        "tags": {"team": draw(st.sampled_from(["a", "b"])), "owner": "manifest"},
        "aliases": aliases,
    }
    entities = []
    for name in ["champion", "challenger"][: 2 if two else 1]:
        entities.append(draw(served_entity(name, MODEL)))
    endpoint: dict[str, Any] = {
        "name": "ep",
        "served_entities": entities,
        "tags": {"tier": draw(st.sampled_from(["1", "2"])), "cost_center": "cc-1"},
        "ai_gateway": {"usage_tracking": draw(st.booleans())},
    }
    if two:
        share = draw(st.sampled_from([10, 50, 90]))
        endpoint["traffic"] = {"champion": share, "challenger": 100 - share}
    limits = [
        {"key": "endpoint", "calls_per_minute": draw(st.sampled_from([100, 1000]))},
        {"key": "user", "calls_per_minute": draw(st.sampled_from([5, 50]))},
    ]
    return {
        "registered_models": [model],
        "serving_endpoints": [endpoint],
        "quotas": [{"endpoint": LLAMA, "rate_limits": limits}],
        "vector_search_endpoints": [
            {"name": "vs", "tags": {"k": draw(st.sampled_from(["x", "y"])), "owner": "manifest"}}
        ],
    }


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any], dict[str, list[str]]]:
    two = draw(st.booleans())
    ignore: dict[str, list[str]] = {}
    for asset, fields in IGNORABLE.items():
        chosen = draw(st.lists(st.sampled_from(fields), unique=True))
        if chosen:
            ignore[asset] = chosen
    return draw(state(two)), draw(state(two)), ignore


def write_project(root: Path, doc: dict[str, Any], ignore: dict[str, list[str]]) -> None:
    rules = [{"asset": asset, "fields": fields} for asset, fields in ignore.items()]
    project = {
        "project": "prop",
        "default_target": "sandbox",
        "targets": {"sandbox": {"type": "sandbox", "ignore": rules}},
    }
    (root / "manifests").mkdir(parents=True, exist_ok=True)
    (root / "reconciler.yaml").write_text(yaml.safe_dump(project))
    (root / "manifests" / "all.yaml").write_text(yaml.safe_dump(doc))


def apply(root: Path, workspace: DatabricksWorkspace) -> None:
    result = make_plan(load_project(root), "sandbox", workspace=workspace)
    outcome = execute(result.plan, workspace, result.live, settings=APPLY)
    assert outcome.ok, outcome.summary_lines()


def get(client: WorkspaceClient, path: str, **query: str) -> dict[str, Any]:
    doc = client.api_client.do("GET", path, query=query or None)
    assert isinstance(doc, dict)
    return doc


def endpoint(client: WorkspaceClient, name: str = "ep") -> dict[str, Any]:
    for _ in range(1000):
        doc = get(client, f"{SERVING}/{name}")
        if doc["state"]["config_update"] == "NOT_UPDATING":
            return doc
        time.sleep(0.005)
    raise AssertionError(f"endpoint {name} never settled")


def edit_config(client: WorkspaceClient, ignored: list[str], edits: list[str]) -> None:
    """One out-of-band ``PUT .../config``: ignored traffic and scale-to-zero changed, fields
    the manifests do not set added."""
    doc = endpoint(client)
    entities = []
    for raw in doc["config"]["served_entities"]:
        entity = {k: v for k, v in raw.items() if k in ENTITY_INPUT}
        if "served_entities.*.scale_to_zero" in ignored:
            entity["scale_to_zero_enabled"] = not entity["scale_to_zero_enabled"]
        if "instance_profile_arn" in edits:
            entity["instance_profile_arn"] = ARN
        if "environment_vars" in edits:
            entity["environment_vars"] = {"SET_BY": "notebook"}
        if "workload_type" in edits:
            entity["workload_type"] = "GPU_SMALL"
        entities.append(entity)
    routes = doc["config"]["traffic_config"]["routes"]
    if "traffic" in ignored and len(routes) == 2:
        routes = [
            {"served_entity_name": "champion", "traffic_percentage": 30},
            {"served_entity_name": "challenger", "traffic_percentage": 70},
        ]
    body = {"served_entities": entities, "traffic_config": {"routes": routes}}
    client.api_client.do("PUT", f"{SERVING}/ep/config", body=body)
    endpoint(client)


def edit_out_of_band(
    client: WorkspaceClient, ignore: dict[str, list[str]], edits: list[str], drop_cost: bool
) -> None:
    """Change each ignored field and each field of ``edits`` behind the manifests' back."""
    ep = ignore.get("serving_endpoint.ep", [])
    if "tags.cost_center" in ep:
        body = {"delete_tags": ["cost_center"]} if drop_cost else {}
        body |= {} if drop_cost else {"add_tags": [{"key": "cost_center", "value": "finops"}]}
        client.api_client.do("PATCH", f"{SERVING}/ep/tags", body=body)
    edit_config(client, ep, edits)
    gateway = endpoint(client).get("ai_gateway") or {}
    if "ai_gateway.usage_tracking" in ignore.get("serving_endpoint.*", []):
        enabled = (gateway.get("usage_tracking_config") or {}).get("enabled", False)
        gateway["usage_tracking_config"] = {"enabled": not enabled}
    if "pii" in edits:
        gateway["guardrails"] = {"output": {"pii": {"behavior": "MASK"}}}
    client.api_client.do("PUT", f"{SERVING}/ep/ai-gateway", body=gateway)
    models = ignore.get("registered_model.*", [])
    if "comment" in models:
        client.registered_models.update(MODEL, comment="set in the UI")
    if "tags.owner" in models:
        body = {"changes": {"add_tags": [{"key": "owner", "value": "data-gov"}]}}
        client.api_client.do("PATCH", f"{MODEL_TAGS}/{MODEL}", body=body)
    if "quota.*" in ignore:
        llama = get(client, f"{SERVING}/{LLAMA}").get("ai_gateway") or {}
        for limit in llama.get("rate_limits") or []:
            if limit.get("key") == "endpoint":
                limit["calls"] = 7
        client.api_client.do("PUT", f"{SERVING}/{LLAMA}/ai-gateway", body=llama)
    if "vector_search_endpoint.vs" in ignore:
        tags = get(client, f"{VS}/vs").get("custom_tags") or []
        tags = [t for t in tags if t["key"] != "owner"] + [{"key": "owner", "value": "search"}]
        client.api_client.do("PATCH", f"{VS}/vs/tags", body={"custom_tags": tags})


def kept_fields(
    ignore: dict[str, list[str]], edits: list[str]
) -> dict[str, Callable[[WorkspaceClient], Any]]:
    """Each field the edits touched, as a reader of its live value."""
    readers: dict[str, Callable[[WorkspaceClient], Any]] = {}

    def entity_field(key: str) -> Callable[[WorkspaceClient], Any]:
        def read(client: WorkspaceClient) -> Any:
            entities = endpoint(client)["config"]["served_entities"]
            return sorted((e["name"], repr(e.get(key))) for e in entities)

        return read

    ep = ignore.get("serving_endpoint.ep", [])
    if "tags.cost_center" in ep:
        readers["cost_center"] = lambda c: sorted(
            (t["key"], t.get("value")) for t in endpoint(c)["tags"] if t["key"] == "cost_center"
        )
    if "traffic" in ep:
        readers["traffic"] = lambda c: endpoint(c)["config"]["traffic_config"]["routes"]
    if "served_entities.*.scale_to_zero" in ep:
        readers["scale_to_zero"] = entity_field("scale_to_zero_enabled")
    for edit in edits:
        if edit in ("instance_profile_arn", "environment_vars", "workload_type"):
            readers[edit] = entity_field(edit)
    if "pii" in edits:
        readers["pii"] = lambda c: endpoint(c)["ai_gateway"].get("guardrails")
    if "ai_gateway.usage_tracking" in ignore.get("serving_endpoint.*", []):
        readers["usage_tracking"] = lambda c: endpoint(c)["ai_gateway"].get("usage_tracking_config")
    models = ignore.get("registered_model.*", [])
    if "comment" in models:
        readers["comment"] = lambda c: c.registered_models.get(MODEL).comment
    if "tags.owner" in models:
        uc = "/api/2.0/mlflow/unity-catalog/registered-models/get"
        readers["model owner tag"] = lambda c: [
            t
            for t in get(c, uc, name=MODEL)["registered_model"].get("tags", [])
            if t["key"] == "owner"
        ]
    if "quota.*" in ignore:
        readers["endpoint limit"] = lambda c: [
            limit
            for limit in get(c, f"{SERVING}/{LLAMA}")["ai_gateway"]["rate_limits"]
            if limit.get("key") == "endpoint"
        ]
    if "vector_search_endpoint.vs" in ignore:
        readers["vs owner tag"] = lambda c: [
            t for t in get(c, f"{VS}/vs").get("custom_tags") or [] if t["key"] == "owner"
        ]
    return readers


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)  # no shrinking: examples take seconds
@given(
    scenario=scenarios(),
    edits=st.lists(st.sampled_from(UNSET_EDITS), unique=True),
    drop_cost=st.booleans(),
)
def test_apply_leaves_ignored_and_unset_fields_as_they_are_live(
    scenario: tuple[dict[str, Any], dict[str, Any], dict[str, list[str]]],
    edits: list[str],
    drop_cost: bool,
) -> None:
    first, second, ignore = scenario
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with SandboxServer(root / ".reconciler" / "sandbox", config=SandboxConfig.fast()) as server:
            client = sandbox_client(server.url)
            workspace = DatabricksWorkspace(client)
            register_versions_up_to(client, MODEL, 3)
            write_project(root, first, ignore)
            apply(root, workspace)
            edit_out_of_band(client, ignore, edits, drop_cost)
            readers = kept_fields(ignore, edits)
            before = {name: read(client) for name, read in readers.items()}
            write_project(root, second, ignore)
            apply(root, workspace)
            after = {name: read(client) for name, read in readers.items()}
            assert after == before
            again = make_plan(load_project(root), "sandbox", workspace=workspace).plan
            assert again.empty, [(c.address, c.diffs) for c in again.changes]
