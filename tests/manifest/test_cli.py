"""`reconciler validate` output contract: summary line, logs, tracebacks only with -v."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from manifest.helpers import run_cli, write_project
from reconciler.model.errors import ManifestError


def test_json_logs_go_to_stderr(example_project: Path) -> None:
    out = run_cli(["--log-format", "json", "-v", "validate"], cwd=example_project)
    assert out.exit_code == 0
    assert out.stdout.startswith("OK: ")
    events = [json.loads(line) for line in out.stderr.splitlines() if line.startswith("{")]
    loaded = [e for e in events if e["event"] == "manifests loaded"]
    assert loaded and loaded[0]["assets"] == 11 and loaded[0]["target"] == "sandbox"


def test_quiet_by_default(example_project: Path) -> None:
    out = run_cli(["validate"], cwd=example_project)
    assert out.exit_code == 0
    assert out.stderr == ""


def test_traceback_only_with_verbose(tmp_path: Path) -> None:
    root = write_project(tmp_path, {"manifests/m.yaml": "registered_models: 3\n"})
    plain = run_cli(["validate"], cwd=root)
    assert plain.exit_code == 1 and plain.exception is None
    verbose = run_cli(["-v", "validate"], cwd=root)
    assert isinstance(verbose.exception, ManifestError)
    assert str(verbose.exception).startswith("manifests/m.yaml:1:20: ")


def test_several_problems_are_listed_under_the_first(tmp_path: Path) -> None:
    text = "registered_models:\n  - name: a.b.c\n    foo: 1\n  - name: a.b.d\n    bar: 2\n"
    root = write_project(tmp_path, {"manifests/m.yaml": text})
    out = run_cli(["validate"], cwd=root)
    lines = out.stderr.splitlines()
    assert lines[0].startswith("error: manifests/m.yaml:3:5: unknown field 'foo'")
    assert lines[1].startswith("  manifests/m.yaml:5:5: unknown field 'bar'")


def test_logging_after_a_cli_run_still_works(
    example_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI configures logging while a test runner has swapped stderr; library code logging
    later in the same process must reach the stderr of that moment, not the old stream."""
    from reconciler.manifest import load_desired_state, load_project

    assert run_cli(["-v", "validate"], cwd=example_project).exit_code == 0
    capsys.readouterr()
    load_desired_state(load_project(example_project), None)  # logs at debug level
    assert "manifests loaded" in capsys.readouterr().err
