"""State: concurrent writes lose nothing, restarts keep everything."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from databricks.sdk.service.serving import (
    EndpointCoreConfigInput,
    EndpointStateConfigUpdate,
    EndpointTag,
    ServedEntityInput,
)
from databricks.sdk.service.vectorsearch import EndpointType

from reconciler.sandbox import (
    SandboxConfig,
    SandboxServer,
    register_version,
    reset_state,
    workspace_client,
)
from reconciler.sandbox.config import Delays


def test_200_concurrent_writes_from_16_threads_lose_nothing(sandbox: SandboxServer) -> None:
    sdk = workspace_client(sandbox.url)
    sdk.registered_models.create(catalog_name="main", schema_name="s", name="m")

    def write(i: int) -> None:
        # Each call is a read-modify-write of one shared document.
        if i % 2:
            sdk.serving_endpoints.patch(
                "databricks-bge-large-en", add_tags=[EndpointTag(key=f"k{i:03d}", value=str(i))]
            )
        else:
            register_version(sdk, "main.s.m", status="PENDING_REGISTRATION")

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(write, range(200)))
    tags = sdk.serving_endpoints.get("databricks-bge-large-en").tags
    assert sorted(t.key for t in tags) == [f"k{i:03d}" for i in range(1, 200, 2)]
    versions = sorted(v.version or 0 for v in sdk.model_versions.list("main.s.m"))
    assert versions == list(range(1, 101))


def test_restart_keeps_all_state_and_state_machines_continue(
    sandbox_factory: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    slow = SandboxConfig(delays=Delays(0.3, 0.01, 0.02, 0.02, 0.05))
    first = sandbox_factory(slow, state_dir=state)
    sdk = workspace_client(first.url)
    register_version(sdk, "main.s.m")
    sdk.registered_models.set_alias("main.s.m", "champion", 1)
    sdk.vector_search_endpoints.create_endpoint("vs", EndpointType.STANDARD)
    sdk.serving_endpoints.create(
        "ep",
        config=EndpointCoreConfigInput(
            name="ep",
            served_entities=[
                ServedEntityInput(
                    entity_name="main.s.m",
                    entity_version="1",
                    workload_size="Small",
                    scale_to_zero_enabled=True,
                )
            ],
        ),
    )
    first.stop()

    second = sandbox_factory(slow, state_dir=state)
    sdk = workspace_client(second.url)
    assert sdk.model_versions.get_by_alias("main.s.m", "champion").version == 1
    assert sdk.vector_search_endpoints.get_endpoint("vs").name == "vs"
    names = [e.name for e in sdk.serving_endpoints.list()]
    assert names.count("databricks-bge-large-en") == 1 and "ep" in names
    time.sleep(0.35)
    state_now = sdk.serving_endpoints.get("ep").state
    assert state_now is not None
    assert state_now.config_update is EndpointStateConfigUpdate.NOT_UPDATING
    second.stop()

    assert reset_state(state)
    third = sandbox_factory(slow, state_dir=state)
    sdk = workspace_client(third.url)
    assert [m for m in sdk.registered_models.list() if m.catalog_name != "system"] == []
    assert len(sdk.serving_endpoints.list()) == 3  # a fresh workspace: only the built-ins


def test_two_servers_on_one_state_dir_share_it_without_losing_writes(
    sandbox_factory: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    # What `serve --state DIR` and an in-process sandbox target on DIR amount to.
    state = tmp_path / "shared"
    first = workspace_client(sandbox_factory(state_dir=state).url)
    second = workspace_client(sandbox_factory(state_dir=state).url)

    def write(i: int) -> None:
        client = first if i % 2 else second
        client.serving_endpoints.patch(
            "databricks-gte-large-en", add_tags=[EndpointTag(key=f"k{i}", value="v")]
        )

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(write, range(100)))
    assert len(second.serving_endpoints.get("databricks-gte-large-en").tags) == 100
    assert len(first.serving_endpoints.list()) == 3
