"""Provenance, without a workspace (saved-plan checks: tests/plan/test_exact.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reconciler.apply.provenance import git_commit


def test_commit_comes_from_ci_or_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_SHA", raising=False)
    assert git_commit(tmp_path) is None
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    assert git_commit(tmp_path) == head.strip()
    monkeypatch.setenv("GITHUB_SHA", "abc123")
    assert git_commit(tmp_path) == "abc123"
