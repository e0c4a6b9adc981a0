"""Property: however the pages fall (sizes, empty pages), the SDK sees every item exactly once."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.sandbox import SandboxServer, register_version, workspace_client

_schemas = itertools.count()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    count=st.integers(min_value=0, max_value=9),
    page_size=st.integers(min_value=1, max_value=4),
    empty_pages=st.booleans(),
)
def test_paged_lists_return_everything_once(
    sandbox: SandboxServer, count: int, page_size: int, empty_pages: bool
) -> None:
    # One server for all examples (the fixture is shared); each example uses its own schema.
    sandbox.config.empty_pages = empty_pages
    sdk = workspace_client(sandbox.url)
    schema = f"s{next(_schemas)}"
    names = [f"m{i}" for i in range(count)]
    for name in names:
        sdk.registered_models.create(catalog_name="c", schema_name=schema, name=name)
    listed = sdk.registered_models.list(catalog_name="c", schema_name=schema, max_results=page_size)
    assert sorted(m.name or "" for m in listed) == sorted(names)
    if names:
        for _ in range(count):
            register_version(sdk, f"c.{schema}.{names[0]}")
        versions = [
            v.version
            for v in sdk.model_versions.list(f"c.{schema}.{names[0]}", max_results=page_size)
        ]
        assert versions == list(range(1, count + 1))
