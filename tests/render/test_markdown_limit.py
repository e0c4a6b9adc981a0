"""PR comments stay under GitHub's 65,536-character limit, saying what was left out."""

from __future__ import annotations

from reconciler.model.changes import Action, Change, FieldDiff, Plan, summarize
from reconciler.render.markdown import LIMIT, render_markdown


def _big_plan(n: int) -> Plan:
    changes = tuple(
        Change(
            address=f"serving_endpoint.ep-{i:05d}",
            kind="serving_endpoint",
            name=f"ep-{i:05d}",
            action=Action.UPDATE,
            diffs=tuple(
                FieldDiff(path=f"tags.k{j}", before="x" * 40, after="y" * 40) for j in range(5)
            ),
        )
        for i in range(n)
    )
    return Plan(project="p", target="t", changes=changes, summary=summarize(changes))


def test_large_plans_are_truncated_with_a_note() -> None:
    out = render_markdown(_big_plan(2000))
    assert len(out) <= LIMIT
    assert "too large for one comment" in out
    assert "Plan: 0 to create, 2000 to update" in out
    assert out.count("<details>") == out.count("</details>")


def test_small_plans_are_complete() -> None:
    out = render_markdown(_big_plan(3))
    assert "too large" not in out
    assert out.count("<details>") == 3


def test_backticks_in_values_cannot_break_the_fence() -> None:
    change = Change(
        address="registered_model.a.b.c",
        kind="registered_model",
        name="a.b.c",
        action=Action.UPDATE,
        diffs=(FieldDiff(path="comment", before="x", after="```\n</details>"),),
    )
    plan = Plan(target="t", changes=(change,), summary=summarize((change,)))
    out = render_markdown(plan)
    assert out.count("```") == 2


def test_many_destructive_changes_are_summarized_in_the_callout() -> None:
    changes = tuple(
        Change(
            address=f"vector_index.c.s.i{i:05d}",
            kind="vector_index",
            name=f"c.s.i{i:05d}",
            action=Action.DELETE,
            reason="deletes index and its contents " + "z" * 200,
        )
        for i in range(3000)
    )
    out = render_markdown(Plan(target="t", changes=changes, summary=summarize(changes)))
    assert len(out) <= LIMIT
    assert "and 2975 more" in out
