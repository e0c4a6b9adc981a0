"""A plan against a rate-limited workspace (the sandbox's ``rate_limit``: 429
REQUEST_LIMIT_EXCEEDED with Retry-After over N requests a second) completes, every call
answered in the end: the limiter backs off, the SDK retries, nothing fails."""

from __future__ import annotations

import re
from pathlib import Path

import click
import yaml
from click.testing import CliRunner

from reconciler.adapters import open_workspace
from reconciler.cli import cli
from reconciler.cli.common import Options
from reconciler.cli.reads import load
from reconciler.commands.plan import make_plan
from reconciler.manifest import load_project

MODELS = 45


def _limited_project(root: Path, rate: float) -> None:
    """A ``limited`` target (its own sandbox state) and 45 models more to read; the example's
    models and endpoint leave (their versions are not registered in that sandbox)."""
    project = yaml.safe_load((root / "reconciler.yaml").read_text())
    project["targets"]["limited"] = {"type": "sandbox", "rate_limit": rate, "state_dir": "lim"}
    (root / "reconciler.yaml").write_text(yaml.safe_dump(project))
    models = [{"name": f"main.bulk.m{i:03d}", "comment": "bulk"} for i in range(MODELS)]
    (root / "manifests" / "bulk.yaml").write_text(yaml.safe_dump({"registered_models": models}))
    for name in ("models.yaml", "serving.yaml"):
        (root / "manifests" / name).write_text("{}\n")


def test_a_plan_against_a_rate_limited_workspace_completes_with_no_failed_call(
    example_project: Path,
) -> None:
    _limited_project(example_project, rate=10)
    project = load_project(example_project)
    with open_workspace(project, "limited") as ws:
        planned = make_plan(project, "limited", workspace=ws)
        meter = ws.meter  # type: ignore[attr-defined]
    live = planned.live
    creates = [c.address for c in planned.plan.changes if c.action.value == "create"]
    assert sum(a.startswith("registered_model.main.bulk.") for a in creates) == MODELS
    assert live.throttled > 0, "the rate limit was never reached: the test proves nothing"
    assert meter.calls == live.api_calls
    assert meter.refused == live.throttled  # every refused call was a 429, retried until answered


def test_the_verbose_line_counts_the_429s(example_project: Path) -> None:
    _limited_project(example_project, rate=10)
    result = CliRunner().invoke(
        cli, ["--project", str(example_project), "-v", "plan", "-t", "limited"]
    )
    assert result.exit_code == 0, result.output
    found = re.search(r"with (\d+) API calls, (\d+) answered 429 and were retried", result.stderr)
    assert found is not None, result.stderr
    assert int(found.group(2)) > 0


def test_max_concurrency_on_the_command_line_caps_the_reads(example_project: Path) -> None:
    """``--max-concurrency 3`` sets every target's ceiling for the run (``cli.reads.load``)."""
    with click.Context(cli, obj=Options(project_dir=example_project, max_concurrency=3)):
        project = load()
    assert {t.max_concurrency for t in project.targets.values()} == {3}
    with open_workspace(project, "sandbox") as ws:
        assert ws.limiter.maximum == 3  # type: ignore[attr-defined]
        assert ws.limiter.limit <= 3  # type: ignore[attr-defined]
