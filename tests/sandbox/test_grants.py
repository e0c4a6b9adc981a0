"""Unity Catalog grants in the sandbox, driven through the SDK's grants API: FUNCTION for models,
TABLE for vector indexes, removes before adds, ALL_PRIVILEGES removal takes everything, and the
errors Databricks gives."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import BadRequest, NotFound
from databricks.sdk.service.catalog import PermissionsChange, Privilege

MODEL = "main.s.m"


def _grants(sdk: WorkspaceClient, kind: str, name: str) -> dict[str, list[str]]:
    return {
        str(a.principal): [p.value for p in a.privileges or []]
        for a in sdk.grants.get(kind, name).privilege_assignments or []
    }


def _change(who: str, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> PermissionsChange:
    return PermissionsChange(
        principal=who, add=[Privilege(p) for p in add], remove=[Privilege(p) for p in remove]
    )


def test_model_grants(sdk: WorkspaceClient, register_ready: Callable[[str], int]) -> None:
    register_ready(MODEL)
    assert _grants(sdk, "FUNCTION", MODEL) == {}
    sdk.grants.update("function", MODEL, changes=[_change("a@x.io", ("EXECUTE", "MANAGE"))])
    sdk.grants.update("FUNCTION", MODEL, changes=[_change("b", ("APPLY_TAG",))])
    assert _grants(sdk, "FUNCTION", MODEL) == {"a@x.io": ["EXECUTE", "MANAGE"], "b": ["APPLY_TAG"]}
    only_a = sdk.grants.get("FUNCTION", MODEL, principal="a@x.io").privilege_assignments
    assert [a.principal for a in only_a or []] == ["a@x.io"]
    sdk.grants.update("FUNCTION", MODEL, changes=[_change("a@x.io", ("APPLY_TAG",), ("MANAGE",))])
    assert _grants(sdk, "FUNCTION", MODEL)["a@x.io"] == ["APPLY_TAG", "EXECUTE"]
    sdk.grants.update("FUNCTION", MODEL, changes=[_change("a@x.io", remove=("ALL_PRIVILEGES",))])
    assert _grants(sdk, "FUNCTION", MODEL) == {"b": ["APPLY_TAG"]}
    sdk.registered_models.delete(MODEL)
    register_ready(MODEL)
    assert _grants(sdk, "FUNCTION", MODEL) == {}, "grants go with their model"


def test_errors(sdk: WorkspaceClient, register_ready: Callable[[str], int]) -> None:
    register_ready(MODEL)
    with pytest.raises(BadRequest, match="Privilege SELECT is not applicable"):
        sdk.grants.update("FUNCTION", MODEL, changes=[_change("a", ("SELECT",))])
    with pytest.raises(BadRequest, match="Duplicate privileges to add and delete"):
        sdk.grants.update("FUNCTION", MODEL, changes=[_change("a", ("EXECUTE",), ("EXECUTE",))])
    with pytest.raises(NotFound):
        sdk.grants.get("FUNCTION", "main.s.nothing")
    with pytest.raises(NotFound):
        sdk.grants.get("TABLE", "main.s.no_index")
    with pytest.raises(BadRequest, match="not supported by the sandbox"):
        sdk.grants.get("VOLUME", "main.s.v")
