"""The scripts in benchmarks/ still run against today's package: each one imports (a refactor
that moves a name they use breaks them, and nothing else would notice until someone measures).
Their figures are printed by running them; here only that they load."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("*.py"))


def test_there_are_benchmarks() -> None:
    assert {"plan_scale.py", "startup.py"} <= {script.name for script in SCRIPTS}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda script: script.stem)
def test_every_benchmark_imports(script: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Benchmarks import each other by module name (plan_file_size uses plan_scale), as when
    run as ``python benchmarks/<name>.py``."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    name = f"benchmark_{script.stem}"
    spec = importlib.util.spec_from_file_location(name, script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    assert callable(getattr(module, "main", None)), f"{script.name} has no main()"
