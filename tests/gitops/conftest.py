"""Fixtures of the GitOps tests: a fake GitHub API on loopback and a client for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gitops.fake_github import FakeGitHub
from reconciler.gitops.github import GitHubClient


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture
def client(github: FakeGitHub) -> GitHubClient:
    return GitHubClient.from_env(github.env())
