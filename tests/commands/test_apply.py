"""Saved-plan checks and provenance, without a workspace."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reconciler.apply.provenance import git_commit
from reconciler.commands.apply import check_fresh
from reconciler.model.changes import Action, Change, Plan
from reconciler.model.errors import ApplyError
from reconciler.project import Project, Target, TargetType

PROJECT = Project(project="p", targets={"dev": Target(type=TargetType.SANDBOX)})
ALIAS = Change(
    address="model_alias.c.s.m@a", kind="model_alias", name="c.s.m@a", action=Action.UPDATE
)


def test_plan_for_another_target_is_refused() -> None:
    saved = Plan(target="prod", changes=(ALIAS,), fingerprint="x")
    with pytest.raises(ApplyError, match="made for target 'prod'"):
        check_fresh(saved, saved.model_copy(update={"target": "dev"}), PROJECT, "dev", "plan.json")


def test_stale_fingerprint_is_refused_naming_what_moved() -> None:
    saved = Plan(target="dev", changes=(ALIAS,), fingerprint="before")
    fresh = Plan(target="dev", changes=(), fingerprint="after")
    with pytest.raises(ApplyError) as info:
        check_fresh(saved, fresh, PROJECT, "dev", "plan.json")
    assert "plan.json is stale" in info.value.message
    assert "model_alias.c.s.m@a" in info.value.message
    assert "reconciler plan -t dev -o plan.json" in (info.value.hint or "")
    check_fresh(saved, saved, PROJECT, "dev", "plan.json")


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
