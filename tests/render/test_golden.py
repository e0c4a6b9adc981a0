"""Golden outputs of the three renderers; regenerate with UPDATE_GOLDEN=1 after a review."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reconciler.model.changes import Plan
from reconciler.model.secrets import PLACEHOLDER
from reconciler.render import render

from .sample import sample_plan

GOLDEN = Path(__file__).parent / "golden"


def _check(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("fmt", "name"), [("text", "plan.txt"), ("json", "plan.json"), ("markdown", "plan.md")]
)
def test_golden(fmt: str, name: str) -> None:
    _check(name, render(sample_plan(), fmt))


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_secrets_never_render(fmt: str) -> None:
    out = render(sample_plan(), fmt)
    assert "secrets/" not in out
    assert PLACEHOLDER.search(out) and "(secret)" not in out  # a fingerprint, never bare


def test_text_closing_line_and_destructive_first() -> None:
    out = render(sample_plan(), "text")
    lines = out.splitlines()
    assert lines[-1] == "Plan: 1 to create, 1 to adopt, 2 to update, 1 to replace, 1 to delete."
    assert out.index("DESTRUCTIVE") < out.index("-/+ vector_index") < out.index("+ vector_search")
    assert out.index("- registered_model.main.support.old_model") < out.index("~ model_alias")


def test_empty_plan_says_no_changes() -> None:
    empty = Plan(project="p", target="t")
    assert render(empty, "text").splitlines()[-1] == "No changes."
    assert "No changes." in render(empty, "markdown")
    assert json.loads(render(empty, "json"))["changes"] == []


def test_colour_only_when_asked() -> None:
    assert "\x1b[" not in render(sample_plan(), "text")
    assert "\x1b[" in render(sample_plan(), "text", color=True)


def test_json_follows_the_contract() -> None:
    doc = json.loads(render(sample_plan(), "json"))
    assert doc["format_version"] == "1"
    assert doc["target"] == "prod"
    assert doc["summary"] == {"create": 1, "update": 2, "replace": 1, "delete": 1, "adopt": 1}
    first = doc["changes"][0]
    assert set(first) >= {"address", "kind", "name", "action", "diffs", "depends_on"}
    assert first["diffs"] == [{"path": "version", "before": 3, "after": 4}]
    assert all("desired" not in c for c in doc["changes"])
