"""The kind registry is complete whichever rules module a process happens to import first."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reconciler.kinds.registry import all_rules, rules_for
from reconciler.model.resources import KindName

_CHECK = """
import importlib, sys
importlib.import_module(sys.argv[1])
from reconciler.kinds.registry import rules_for
from reconciler.model.resources import KindName
print(",".join(sorted(rules_for(k).kind.value for k in KindName)))
"""


@pytest.mark.parametrize(
    "first",
    [
        "reconciler.kinds.serving_endpoint",
        "reconciler.kinds.vector_search",
        "reconciler.kinds.quota",
        "reconciler.kinds.registered_model",
        "reconciler.importer.run",
    ],
)
def test_every_kind_resolves_after_importing_one_rules_module_first(first: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CHECK, first], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ",".join(sorted(k.value for k in KindName))


def test_all_rules_covers_every_kind_and_matches_rules_for() -> None:
    rules = all_rules()
    assert list(rules) == list(KindName)
    assert all(rules_for(kind) is rules[kind] for kind in KindName)
    assert all(rules_for(kind.value).kind is kind for kind in KindName)
