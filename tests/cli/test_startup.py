"""Start-up stays light: ``--help`` and ``validate`` never import databricks-sdk or MLflow (they
take seconds; commands that talk to a workspace load them when they need them)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("databricks", "mlflow", "sqlalchemy", "requests")
PROBE = """
import json, sys
from reconciler.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="reconciler")
except SystemExit as done:
    code = done.code
print(json.dumps({"code": code, "heavy": sorted({m.split(".")[0] for m in sys.modules
                  if m.split(".")[0] in HEAVY})}), file=sys.stderr)
""".replace("HEAVY", repr(HEAVY))


def _probe(*args: str, cwd: Path | None = None) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=cwd, check=False
    )
    result: dict[str, object] = json.loads(done.stderr.strip().splitlines()[-1])
    return result


def test_help_loads_no_sdk() -> None:
    assert _probe("--help") == {"code": 0, "heavy": []}


def test_validate_loads_no_sdk(example_project: Path) -> None:
    assert _probe("validate", cwd=example_project) == {"code": 0, "heavy": []}
