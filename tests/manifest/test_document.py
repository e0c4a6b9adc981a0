"""The YAML loader: values, positions, and limits that stop hostile input early."""

from __future__ import annotations

import time

import pytest

from reconciler.manifest.document import ALIAS_BUDGET, load_yaml
from reconciler.manifest.interpolate import Interpolator
from reconciler.model.errors import Location, ManifestError


def load(text: str) -> tuple[object, object]:
    return load_yaml(text.encode(), "f.yaml")


def test_values_and_positions() -> None:
    value, pos = load_yaml(b"a:\n  - x: 1\n    y: [true, null, 2.5]\n", "f.yaml")
    assert value == {"a": [{"x": 1, "y": [True, None, 2.5]}]}
    assert pos.values[("a", 0, "x")] == Location("f.yaml", 2, 8)
    assert pos.keys[("a", 0, "y")] == Location("f.yaml", 3, 5)
    assert pos.values[("a", 0, "y", 2)] == Location("f.yaml", 3, 21)
    # Unknown path elements (pydantic union tags) are skipped; the key can be preferred.
    assert pos.find(("a", 0, "int", "y")) == Location("f.yaml", 3, 8)
    assert pos.find(("a", 0, "y"), key=True) == Location("f.yaml", 3, 5)


def test_keys_are_the_text_written() -> None:
    value, _ = load_yaml(b"yes: 1\n4: 2\nnull: 3\n", "f.yaml")
    assert value == {"yes": 1, "4": 2, "null": 3}


def test_dates_stay_text() -> None:
    value, _ = load_yaml(b"when: 2024-01-02\n", "f.yaml")
    assert value == {"when": "2024-01-02"}


def test_anchors_within_budget_expand() -> None:
    value, pos = load_yaml(b"a: &x {k: v}\nb: *x\n", "f.yaml")
    assert value == {"a": {"k": "v"}, "b": {"k": "v"}}
    assert pos.values[("b",)] == Location("f.yaml", 2, 4)


def test_alias_bomb_fails_fast() -> None:
    lines = ["l0: &l0 [" + ",".join(["x"] * 10) + "]"]
    for i in range(1, 12):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 10) + "]")
    started = time.perf_counter()
    with pytest.raises(ManifestError, match=f"more than {ALIAS_BUDGET} values"):
        load_yaml("\n".join(lines).encode(), "bomb.yaml")
    assert time.perf_counter() - started < 5  # generous: the point is it does not hang


def test_bom_is_ignored() -> None:
    value, _ = load_yaml("\ufeffa: 1\n".encode(), "f.yaml")
    assert value == {"a": 1}


def test_tabs_inside_values_are_fine() -> None:
    value, _ = load_yaml(b'a: "x\\ty"\nb: x\ty\n', "f.yaml")
    assert value == {"a": "x\ty", "b": "x\ty"}


def test_interpolation_keeps_types_and_positions() -> None:
    interp = Interpolator({"n": 4, "c": "main", "on": True}, target="t", declared={"n", "c", "on"})
    text = b"a: ${var.n}\nb: ${var.c}.s.m\nc: '$${var.c}'\nd: x-${var.on}\n${var.c}: k\n"
    value, pos = load_yaml(text, "f.yaml", interpolate=interp)
    assert value == {"a": 4, "b": "main.s.m", "c": "${var.c}", "d": "x-true", "main": "k"}
    assert pos.keys[("main",)] == Location("f.yaml", 5, 1)


def test_interpolation_error_column_inside_scalar() -> None:
    interp = Interpolator({}, target="t", declared=set())
    with pytest.raises(ManifestError) as info:
        load_yaml(b"a:   pre-${var.missing}-post\n", "f.yaml", interpolate=interp)
    assert info.value.location == Location("f.yaml", 1, 10)
    assert "unknown variable 'missing' (declared: none)" in info.value.message
