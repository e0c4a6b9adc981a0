"""Secret references are masked everywhere by one function, as fingerprints that tell two
references apart without naming either."""

from __future__ import annotations

import re

from reconciler.model.changes import FieldDiff
from reconciler.model.secrets import fingerprint, has_placeholder, mask_secrets, masked

REF = "{{secrets/llm/openai}}"
OTHER = "{{secrets/llm/anthropic}}"


def test_a_reference_reads_as_a_stable_six_digit_fingerprint() -> None:
    shown = mask_secrets(REF)
    assert re.fullmatch(r"\(secret [0-9a-f]{6}\)", shown)
    assert shown == mask_secrets(REF) == f"(secret {fingerprint(REF)})"
    assert "llm" not in shown and "openai" not in shown


def test_two_references_read_differently() -> None:
    assert mask_secrets(REF) != mask_secrets(OTHER)


def test_references_inside_text_and_nested_values_are_masked() -> None:
    value = {"env": {"KEY": REF}, "list": [f"Bearer {REF} and {OTHER}"], "n": 3}
    shown = mask_secrets(value)
    assert shown["n"] == 3
    assert "secrets/" not in str(shown)
    assert shown["list"][0].startswith("Bearer (secret ")


def test_placeholders_are_recognised_old_and_new() -> None:
    assert has_placeholder(mask_secrets(REF))
    assert has_placeholder("(secret)")
    assert not has_placeholder(REF) and not has_placeholder("(secretive)")


def test_a_diff_is_masked_on_both_sides_and_kept_when_clean() -> None:
    diff = FieldDiff(path="served_entities.gpt.env.KEY", before=REF, after=OTHER)
    shown = masked(diff)
    assert shown.before != shown.after
    assert "secrets/" not in f"{shown.before}{shown.after}"
    clean = FieldDiff(path="comment", before="a", after="b")
    assert masked(clean) is clean
