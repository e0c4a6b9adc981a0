"""Dependency order: deterministic, ties by address, cycles named by their path."""

from __future__ import annotations

import pytest

from reconciler.model.changes import Action, Change
from reconciler.model.errors import PlanError
from reconciler.plan.graph import order_changes, topological_order


def test_ties_break_by_address() -> None:
    assert topological_order(["c", "a", "b"], {}) == ["a", "b", "c"]


def test_dependencies_come_first_then_addresses() -> None:
    deps = {"a": ["z"], "b": [], "z": []}
    assert topological_order(["a", "b", "z"], deps) == ["b", "z", "a"]


def test_unknown_dependencies_are_ignored() -> None:
    assert topological_order(["a"], {"a": ["elsewhere"]}) == ["a"]


def test_cycle_error_names_its_path() -> None:
    deps = {"a": ["b"], "b": ["c"], "c": ["a"], "d": []}
    with pytest.raises(PlanError) as err:
        topological_order(["a", "b", "c", "d"], deps)
    assert err.value.message == "dependency cycle: a -> b -> c -> a"


def test_self_cycle_is_named() -> None:
    with pytest.raises(PlanError, match="dependency cycle: a -> a"):
        topological_order(["a"], {"a": ["a"]})


def _change(address: str, action: Action, deps: tuple[str, ...] = ()) -> Change:
    return Change(
        address=address, kind="registered_model", name=address, action=action, depends_on=deps
    )


def test_order_follows_unchanged_middle_assets() -> None:
    """a -> m -> z where m is unchanged: z still goes first."""
    changes = [_change("a", Action.UPDATE, ("m",)), _change("z", Action.CREATE)]
    ordered = order_changes(changes, {"a": ["m"], "m": ["z"], "z": []})
    assert [c.address for c in ordered] == ["z", "a"]


def test_deletes_come_last_dependents_first() -> None:
    """A delete's depends_on names the deletes that run before it (what used it)."""
    changes = [
        _change("endpoint", Action.DELETE, ("index",)),
        _change("index", Action.DELETE),
        _change("new", Action.CREATE),
    ]
    ordered = order_changes(changes, {"new": []})
    assert [c.address for c in ordered] == ["new", "index", "endpoint"]
