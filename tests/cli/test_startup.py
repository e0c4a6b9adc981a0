"""Start-up stays light: each command loads what it needs and nothing else.

``--help`` loads no command (the root group lists them from ``COMMANDS``), ``validate`` no
workspace adapter, HTTP library or logging renderer, and ``plan`` the databricks-sdk
services its reads call, never the SDK package's own ``__init__`` (which imports all fifty).
Times are measured by benchmarks/startup.py; these tests check what is imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from reconciler.cli import cli
from reconciler.cli.common import COMMANDS, FORMATS
from reconciler.render import Format
from reconciler.sandbox import SandboxServer

PROBE = """
import json, sys
from reconciler.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="reconciler")
except SystemExit as done:
    code = done.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""
HEAVY = ("databricks", "mlflow", "sqlalchemy", "requests", "urllib3", "google")
LOGGING = ("structlog", "rich")
"""structlog (and rich, which its console renderer loads): only for ``-v`` debug lines."""
ENGINE = ("reconciler.adapters", "reconciler.sandbox", "reconciler.commands.apply")
MANIFESTS = ("pydantic", "yaml", "reconciler.manifest", "reconciler.kinds", "reconciler.commands")


def _probe(*args: str, cwd: Path | None = None) -> tuple[object, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=cwd, check=False
    )
    result = json.loads(done.stderr.strip().splitlines()[-1])
    return result["code"], set(result["modules"])


def _loaded(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted({p for p in prefixes for m in modules if m == p or m.startswith(p + ".")})


def test_help_loads_no_command() -> None:
    code, modules = _probe("--help")
    assert code == 0
    assert _loaded(modules, HEAVY + LOGGING + ENGINE + MANIFESTS) == []


def test_validate_loads_no_sdk_no_adapter_and_no_log_renderer(example_project: Path) -> None:
    code, modules = _probe("validate", cwd=example_project)
    assert code == 0
    assert _loaded(modules, HEAVY + LOGGING + ENGINE) == []


def test_plan_loads_only_the_sdk_services_its_reads_call(example_project: Path) -> None:
    code, modules = _probe("plan", cwd=example_project)
    assert code in (0, 1)  # 1: the example's versions are not registered; the reads ran
    services = {m.rsplit(".", 1)[1] for m in modules if m.startswith("databricks.sdk.service.")}
    # Endpoints and Vector Search through their SDK services (serving imports provisioning;
    # workspace: the create-intent records' format); models and versions through
    # api_client.do, so no catalog module.
    assert services == {"_internal", "provisioning", "serving", "vectorsearch", "workspace"}
    assert "databricks.sdk.core" in modules
    assert _loaded(modules, ("mlflow", "sqlalchemy", "structlog")) == []  # rich renders plans


def test_the_sdk_package_still_completes_when_something_asks_for_it(
    sandbox: SandboxServer,
) -> None:
    """``from databricks.sdk import WorkspaceClient`` after the deferral gets the real one, and
    a service the light client does not build comes from it, on the same ``ApiClient``."""
    code = (
        "import reconciler.adapters, sys\n"
        "assert 'databricks.sdk.service.jobs' not in sys.modules\n"
        "from databricks.sdk import WorkspaceClient\n"
        "from databricks.sdk.service.jobs import JobsAPI\n"
        "assert WorkspaceClient.__module__ == 'databricks.sdk'\n"
        "from reconciler.adapters.databricks.client import sandbox_client\n"
        f"client = sandbox_client({sandbox.url!r})\n"
        "assert client.jobs._api is client.api_client\n"
        "print(type(client.jobs).__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "JobsExt"  # the full client's own class


def test_threads_asking_for_the_deferred_sdk_at_once_all_get_it() -> None:
    """Plans read on many threads: while one runs the package's ``__init__``, the others wait
    for it (an mlflow target on ``databricks://`` failed with "cannot import name
    'WorkspaceClient'" on 7 of 8 threads)."""
    code = (
        "import reconciler.adapters, threading, time\n"
        "barrier, failed = threading.Barrier(8), []\n"
        "def ask(i):\n"
        "    barrier.wait()\n"
        "    time.sleep(i * 0.02)  # some arrive while the first runs __init__\n"
        "    try:\n"
        "        from databricks.sdk import WorkspaceClient\n"
        "        assert WorkspaceClient.__module__ == 'databricks.sdk'\n"
        "    except BaseException as exc:\n"
        "        failed.append(repr(exc))\n"
        "threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]\n"
        "[t.start() for t in threads]\n"
        "[t.join() for t in threads]\n"
        "print(failed)\n"
    )
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_listed_summary_is_the_commands_own(name: str) -> None:
    """``--help`` lists commands without importing them: their sentences must match."""
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    listed = click.Command(name, help=COMMANDS[name][1])
    for limit in (45, 60, 200):
        assert listed.get_short_help_str(limit) == command.get_short_help_str(limit)


def test_the_format_choices_are_the_renderers() -> None:
    assert tuple(f.value for f in Format) == FORMATS
