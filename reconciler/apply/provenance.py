"""Where an apply came from: the git commit of the project, for the endpoints' tags."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def git_commit(root: Path) -> str | None:
    """The commit checked out at ``root`` (``GITHUB_SHA`` in CI), or None outside git."""
    sha = os.environ.get("GITHUB_SHA")
    if sha:
        return sha
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    sha = done.stdout.strip()
    return sha if done.returncode == 0 and sha else None
