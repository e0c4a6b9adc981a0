"""Deleting or replacing a Vector Search endpoint never destroys what this project does not own,
and a replace leaves this project's indexes serving again. End to end: two projects on one
served sandbox (Databricks targets), the CLI, the real SDK."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from apply.e2e_helpers import edit, fast_sandbox, live_client, run, seed
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import vectorsearch

from reconciler.adapters.databricks.client import ClientSettings, sandbox_client
from reconciler.sandbox import SandboxServer

SCHEMA = {"id": "long", "vec": "array<float>"}


def direct_index(name: str, endpoint: str) -> dict[str, Any]:
    return {
        "name": name,
        "endpoint": endpoint,
        "primary_key": "id",
        "direct_access": {
            "schema": SCHEMA,
            "embedding_vector_columns": [{"name": "vec", "dimension": 4}],
        },
    }


def write_project(root: Path, name: str, url: str, manifests: dict[str, Any]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    config = {
        "project": name,
        "include": ["manifests/*.yaml"],
        "default_target": "ws",
        "targets": {"ws": {"type": "databricks", "host": url, "prune": True}},
    }
    (root / "reconciler.yaml").write_text(yaml.safe_dump(config))
    (root / "manifests").mkdir(exist_ok=True)
    (root / "manifests" / "vs.yaml").write_text(yaml.safe_dump(manifests, sort_keys=False))
    return root


def apply(project: Path, *flags: str) -> Any:
    return run(project, "apply", "--auto-approve", *flags)


@pytest.fixture
def client(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> WorkspaceClient:
    monkeypatch.setenv("DATABRICKS_TOKEN", "any-token")
    monkeypatch.setenv("DATABRICKS_AUTH_TYPE", "pat")
    return sandbox_client(sandbox.url, ClientSettings(retry_timeout_seconds=5))


def index_names(client: WorkspaceClient, endpoint: str) -> list[str]:
    return sorted(str(i.name) for i in client.vector_search_indexes.list_indexes(endpoint))


@pytest.fixture
def two_projects(tmp_path: Path, sandbox: SandboxServer, client: WorkspaceClient) -> Path:
    """Project A owns endpoint shared-vs and index main.a.idx on it; project B uses the same
    endpoint (external) for its own index main.b.idx. Both applied."""
    a = write_project(
        tmp_path / "a",
        "a",
        sandbox.url,
        {
            "vector_search_endpoints": [{"name": "shared-vs"}],
            "vector_indexes": [direct_index("main.a.idx", "shared-vs")],
        },
    )
    b = write_project(
        tmp_path / "b",
        "b",
        sandbox.url,
        {
            "vector_search_endpoints": [{"name": "shared-vs", "external": True}],
            "vector_indexes": [direct_index("main.b.idx", "shared-vs")],
        },
    )
    assert apply(a).exit_code == 0
    assert apply(b).exit_code == 0
    assert index_names(client, "shared-vs") == ["main.a.idx", "main.b.idx"]
    return a


def test_pruning_an_endpoint_never_destroys_another_projects_index(
    two_projects: Path, client: WorkspaceClient
) -> None:
    (two_projects / "manifests" / "vs.yaml").write_text("{}\n")
    plan = run(two_projects, "plan")
    assert plan.exit_code == 1
    assert "vector_search_endpoint.shared-vs cannot be deleted" in plan.output
    assert "vector_index.main.b.idx (owned by project 'b')" in plan.output
    refused = apply(two_projects, "--allow-delete")
    assert refused.exit_code == 1
    assert "not even --allow-delete" in refused.output
    assert index_names(client, "shared-vs") == ["main.a.idx", "main.b.idx"]


def test_replacing_an_endpoint_never_destroys_another_projects_index(
    two_projects: Path, client: WorkspaceClient
) -> None:
    edit(
        two_projects / "manifests" / "vs.yaml",
        "- name: shared-vs\n",
        "- name: shared-vs\n  type: STORAGE_OPTIMIZED\n",
    )
    refused = apply(two_projects, "--allow-delete")
    assert refused.exit_code == 1
    assert "cannot be replaced" in refused.output
    assert "vector_index.main.b.idx (owned by project 'b')" in refused.output
    endpoint = client.vector_search_endpoints.get_endpoint("shared-vs")
    assert endpoint.endpoint_type is not None and endpoint.endpoint_type.value == "STANDARD"


def test_an_index_nobody_owns_blocks_the_prune_of_its_endpoint(
    tmp_path: Path, sandbox: SandboxServer, client: WorkspaceClient
) -> None:
    a = write_project(
        tmp_path / "a", "a", sandbox.url, {"vector_search_endpoints": [{"name": "vs-a"}]}
    )
    assert apply(a).exit_code == 0
    client.vector_search_indexes.create_index(
        "main.hand.made",
        "vs-a",
        "id",
        vectorsearch.VectorIndexType.DIRECT_ACCESS,
        direct_access_index_spec=vectorsearch.DirectAccessVectorIndexSpec(
            schema_json='{"id": "long", "vec": "array<float>"}',
            embedding_vector_columns=[
                vectorsearch.EmbeddingVectorColumn(name="vec", embedding_dimension=4)
            ],
        ),
    )
    (a / "manifests" / "vs.yaml").write_text("{}\n")
    refused = apply(a, "--allow-delete")
    assert refused.exit_code == 1
    assert "vector_index.main.hand.made (owned by no project)" in refused.output
    assert index_names(client, "vs-a") == ["main.hand.made"]


INDEX = "main.support.docs_index"
ENDPOINT = "docs-vs"


def _plan_json(project: Path) -> dict[str, Any]:
    result = run(project, "plan", "--format", "json")
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = yaml.safe_load(result.stdout)
    return doc


def _assert_index_serves(project: Path) -> None:
    with live_client(project) as w:
        endpoint = w.api_client.do("GET", f"/api/2.0/vector-search/endpoints/{ENDPOINT}")
        index = w.api_client.do("GET", f"/api/2.0/vector-search/indexes/{INDEX}")
        tags = {t["key"]: t.get("value") for t in endpoint.get("custom_tags") or []}
    assert index["endpoint_id"] == endpoint["id"], "the index belongs to the live endpoint"
    assert index["status"]["ready"] is True, index["status"]
    assert tags[f"reconciler.index.{INDEX}"] == "support-assistant"
    assert tags["reconciler.project"] == "support-assistant"


@pytest.fixture
def applied(example_project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    fast_sandbox(monkeypatch)
    seed(example_project)
    assert apply(example_project).exit_code == 0
    return example_project


def test_replacing_an_endpoint_rebuilds_its_indexes_and_they_serve_again(applied: Path) -> None:
    """Before: a type change left every index OFFLINE and the next plan said "No changes"."""
    edit(applied / "manifests" / "vector_search.yaml", "type: STANDARD", "type: STORAGE_OPTIMIZED")
    doc = _plan_json(applied)
    changes = {c["address"]: c for c in doc["changes"]}
    assert [(c["address"], c["action"]) for c in doc["changes"]] == [
        (f"vector_search_endpoint.{ENDPOINT}", "replace"),
        (f"vector_index.{INDEX}", "replace"),
    ]
    endpoint, index = (
        changes[f"vector_search_endpoint.{ENDPOINT}"],
        changes[f"vector_index.{INDEX}"],
    )
    assert f"rebuilt after it by this plan: vector_index.{INDEX}" in endpoint["reason"]
    assert "re-syncs and re-embeds its whole source table (main.support.docs)" in endpoint["reason"]
    assert index["reason"].startswith(f"its vector search endpoint {ENDPOINT} is replaced")
    assert index["depends_on"] == [f"vector_search_endpoint.{ENDPOINT}"]
    refused = apply(applied)
    assert refused.exit_code == 1 and "--allow-delete" in refused.output
    done = apply(applied, "--allow-delete")
    assert done.exit_code == 0, done.output
    _assert_index_serves(applied)
    with live_client(applied) as w:
        live = w.vector_search_endpoints.get_endpoint(ENDPOINT)
    assert live.endpoint_type == vectorsearch.EndpointType.STORAGE_OPTIMIZED
    assert run(applied, "plan", "--detailed-exitcode").exit_code == 0
    assert run(applied, "drift").exit_code == 0


def test_an_index_orphaned_by_its_endpoint_being_recreated_is_rebuilt(applied: Path) -> None:
    """What main's replace left behind (or a re-create by hand): the endpoint exists again,
    marked, but the index still points at the old one. The plan must not say "No changes"."""
    with live_client(applied) as w:
        old = w.api_client.do("GET", f"/api/2.0/vector-search/endpoints/{ENDPOINT}")
        w.api_client.do("DELETE", f"/api/2.0/vector-search/endpoints/{ENDPOINT}")
        body = {"name": ENDPOINT, "endpoint_type": "STANDARD"}
        w.api_client.do("POST", "/api/2.0/vector-search/endpoints", body=body)
        tags = [t for t in old["custom_tags"] if not t["key"].startswith("reconciler.index.")]
        path = f"/api/2.0/vector-search/endpoints/{ENDPOINT}/tags"
        w.api_client.do("PATCH", path, body={"custom_tags": tags})
        index = w.api_client.do("GET", f"/api/2.0/vector-search/indexes/{INDEX}")
        assert index["status"]["detailed_state"] == "OFFLINE"
    assert run(applied, "plan", "--detailed-exitcode").exit_code == 2
    doc = _plan_json(applied)
    assert [(c["address"], c["action"]) for c in doc["changes"]] == [
        (f"vector_index.{INDEX}", "replace")
    ]
    assert "orphaned and never serves again" in doc["changes"][0]["reason"]
    done = apply(applied, "--allow-delete")
    assert done.exit_code == 0, done.output
    _assert_index_serves(applied)
    assert run(applied, "plan", "--detailed-exitcode").exit_code == 0


def test_an_index_deleted_out_of_band_is_planned_again(applied: Path) -> None:
    with live_client(applied) as w:
        w.vector_search_indexes.delete_index(INDEX)
    doc = _plan_json(applied)
    assert [(c["address"], c["action"]) for c in doc["changes"]] == [
        (f"vector_index.{INDEX}", "create")
    ]
    assert apply(applied).exit_code == 0
    _assert_index_serves(applied)
