"""Behaviour recorded on real workspaces (shared/databricks-api.md, last section), one test per
fact, each against the sandbox reproducing it: apply, then a plan that is empty.

Write-only fields whose echo is uncertain are also checked both ways on the rules alone
(``tests/kinds/test_write_only.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from apply.e2e_helpers import edit, fast_sandbox, live_client, plan_exit, run, seed

SERVING = "serving.yaml"
SEARCH = "vector_search.yaml"


def append(project: Path, file: str, key: str, entry: str) -> None:
    """Add a manifest entry (YAML text of one list item) under ``key`` of ``file``."""
    path = project / "manifests" / file
    text = path.read_text()
    assert f"{key}:\n" in text
    path.write_text(text.replace(f"{key}:\n", f"{key}:\n{entry}", 1))


def apply_ok(project: Path, *extra: str) -> str:
    result = run(project, "apply", "--auto-approve", *extra)
    assert result.exit_code == 0, result.output
    return result.output


def assert_converged(project: Path) -> None:
    code, output = plan_exit(project)
    assert code == 0, output
    drift = run(project, "drift")
    assert drift.exit_code == 0, drift.output


@pytest.fixture
def project(example_project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    fast_sandbox(monkeypatch)
    seed(example_project)
    return example_project


# --- serving endpoints -------------------------------------------------------------------


def test_serving_budget_policy_id_is_never_returned_so_it_is_compared_only_at_creation(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GET carries effective_budget_policy_id, here inherited from the workspace for the
    endpoint that sets none; a later change of the manifest value plans nothing (no replace
    of a production endpoint from the live side being empty)."""
    monkeypatch.setenv("RECONCILER_SANDBOX_WORKSPACE_BUDGET_POLICY", "bp-workspace")
    edit(
        project / "manifests" / SERVING,
        "  - name: support-intent\n",
        "  - name: support-intent\n    budget_policy_id: bp-serving\n",
    )
    append(project, SERVING, "serving_endpoints", MINIMAL_ENDPOINT)
    apply_ok(project)
    with live_client(project) as client:
        own = client.api_client.do("GET", "/api/2.0/serving-endpoints/support-intent")
        inherited = client.api_client.do("GET", "/api/2.0/serving-endpoints/minimal")
    assert isinstance(own, dict) and isinstance(inherited, dict)
    assert own["effective_budget_policy_id"] == "bp-serving" and "budget_policy_id" not in own
    assert inherited["effective_budget_policy_id"] == "bp-workspace"
    assert_converged(project)
    edit(project / "manifests" / SERVING, "bp-serving", "bp-other")
    assert_converged(project)


def test_vector_search_budget_policy_id_is_never_returned_so_it_plans_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILER_SANDBOX_WORKSPACE_BUDGET_POLICY", "bp-workspace")
    edit(
        project / "manifests" / SEARCH,
        "  - name: docs-vs\n",
        "  - name: docs-vs\n    budget_policy_id: bp-search\n",
    )
    apply_ok(project)
    with live_client(project) as client:
        live = client.api_client.do("GET", "/api/2.0/vector-search/endpoints/docs-vs")
    assert isinstance(live, dict) and live["effective_budget_policy_id"] == "bp-search"
    assert_converged(project)


def test_a_remote_only_telemetry_config_plans_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workspace telemetry profile makes every new endpoint report a telemetry_config the
    manifests never set (and table_names, input-only, never comes back)."""
    monkeypatch.setenv("RECONCILER_SANDBOX_WORKSPACE_TELEMETRY_PROFILE", "tp-workspace")
    apply_ok(project)
    with live_client(project) as client:
        live = client.api_client.do("GET", "/api/2.0/serving-endpoints/support-intent")
    assert isinstance(live, dict) and live["telemetry_config"]
    assert_converged(project)


MINIMAL_ENDPOINT = """  - name: minimal
    served_entities:
      - name: only
        entity: ${var.catalog}.support.ticket_summarizer@champion
        workload_size: Small
"""
EXPLICIT_DEFAULTS = """  - name: explicit
    route_optimized: false
    served_entities:
      - name: only
        entity: ${var.catalog}.support.ticket_summarizer@champion
        workload_size: Small
        workload_type: CPU
        scale_to_zero: false
    traffic: {only: 100}
"""


def test_backend_defaults_are_folded(project: Path) -> None:
    """The server fills in workload_type CPU, a 100% route to a single entity (with both
    route names), route_optimized false: whether the manifest leaves them out or spells them
    out, the plan after apply is empty."""
    append(project, SERVING, "serving_endpoints", MINIMAL_ENDPOINT + EXPLICIT_DEFAULTS)
    apply_ok(project)
    with live_client(project) as client:
        live = client.api_client.do("GET", "/api/2.0/serving-endpoints/minimal")
    assert isinstance(live, dict)
    entity = live["config"]["served_entities"][0]
    assert entity["workload_type"] == "CPU" and live["route_optimized"] is False
    (route,) = live["config"]["traffic_config"]["routes"]
    assert route["traffic_percentage"] == 100 and route["served_model_name"] == "only"
    assert_converged(project)


@pytest.mark.parametrize(
    ("field", "old", "new"),
    [
        ("description", "description: first", "description: second"),
        ("route_optimized", "route_optimized: false", "route_optimized: true"),
    ],
)
def test_description_and_route_optimized_changes_are_a_replace_with_a_reason(
    project: Path, field: str, old: str, new: str
) -> None:
    edit(
        project / "manifests" / SERVING,
        "  - name: support-intent\n",
        f"  - name: support-intent\n    {old}\n",
    )
    apply_ok(project)
    assert_converged(project)
    edit(project / "manifests" / SERVING, old, new)
    planned = run(project, "plan")
    assert "serving_endpoint.support-intent (replace)" in planned.output
    assert f"reason: {field} cannot change in place (the API has no update for it" in planned.output
    apply_ok(project, "--allow-delete")
    assert_converged(project)


# --- vector search indexes ------------------------------------------------------------------

DIRECT_INDEX = """  - name: ${var.catalog}.support.faq_index
    endpoint: docs-vs
    primary_key: id
    direct_access:
      schema: {title: string, id: long, votes: integer, embedding: array<float>, at: timestamp}
      embedding_vector_columns: [{name: embedding, dimension: 4}]
"""


def test_index_schema_json_is_rewritten_by_the_backend_and_the_subtype_assigned(
    project: Path,
) -> None:
    """The backend answers Spark type names (long -> bigint, integer -> int, also inside
    array<...>) in sorted key order, and fills index_subtype HYBRID."""
    append(project, SEARCH, "vector_indexes", DIRECT_INDEX)
    apply_ok(project)
    with live_client(project) as client:
        live = client.api_client.do("GET", "/api/2.0/vector-search/indexes/main.support.faq_index")
    assert isinstance(live, dict)
    schema = live["direct_access_index_spec"]["schema_json"]
    assert '"id":"bigint"' in schema.replace(" ", "") and '"votes":"int"' in schema.replace(" ", "")
    assert live["index_subtype"] == "HYBRID"
    assert_converged(project)
    edit(
        project / "manifests" / SEARCH,
        "    primary_key: id\n",
        "    primary_key: id\n    subtype: HYBRID\n",
    )
    assert_converged(project)


def test_import_of_a_direct_access_index_with_a_long_column(project: Path) -> None:
    """Live says bigint; import writes it as the manifests spell it (long), not a skip."""
    append(project, SEARCH, "vector_indexes", DIRECT_INDEX)
    apply_ok(project)
    edit(project / "manifests" / SEARCH, DIRECT_INDEX, "")  # live only: what import is for
    imported = run(project, "import", "--kind", "vector_index", "--name", "*faq*")
    assert imported.exit_code == 0, imported.output
    assert "skipped" not in imported.output
    written = yaml.safe_load(
        (project / "manifests" / "imported" / "vector_indexes.yaml").read_text()
    )
    (entry,) = written["vector_indexes"]
    assert entry["direct_access"]["schema"]["id"] == "long"
    assert entry["direct_access"]["schema"]["votes"] == "integer"
    assert_converged(project)


def test_an_index_replace_waits_out_the_pending_deletion_window_in_one_apply(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After DELETE the name stays "pending deletion" for a while (here 3 s more): the
    re-create is retried within the same apply, which converges."""
    append(project, SEARCH, "vector_indexes", DIRECT_INDEX)
    apply_ok(project)
    monkeypatch.setenv("RECONCILER_SANDBOX_SLOW_DELETION", "3")
    edit(project / "manifests" / SEARCH, "title: string,", "title: string, lang: string,")
    output = apply_ok(project, "--allow-delete")
    assert "1 applied, 0 failed" in output
    assert_converged(project)


def test_the_index_timeout_bounds_the_pending_deletion_wait(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    append(project, SEARCH, "vector_indexes", DIRECT_INDEX)
    apply_ok(project)
    monkeypatch.setenv("RECONCILER_SANDBOX_SLOW_DELETION", "30")
    edit(project / "manifests" / SEARCH, "title: string,", "title: string, lang: string,")
    result = run(
        project, "apply", "--auto-approve", "--allow-delete", "--change-timeout", "vector_index=3s"
    )
    assert result.exit_code == 1
    assert "still pending deletion" in result.output
    assert "--change-timeout vector_index=" in result.output
