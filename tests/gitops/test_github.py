"""The sticky comment and the drift issue against a fake GitHub API."""

from __future__ import annotations

import pytest

from gitops.fake_github import TOKEN, FakeGitHub
from reconciler.gitops.github import (
    DRIFT_LABEL,
    GitHubClient,
    GitHubError,
    Outcome,
    Repo,
    plan_marker,
    sync_drift_issue,
    truncate,
    upsert_comment,
)


def test_comment_created_then_updated_in_place(github: FakeGitHub, client: GitHubClient) -> None:
    pr = github.state.add_issue("Bump champion", "", pr=True)["number"]
    first = upsert_comment(client, pr, "prod", "plan: 1 to update")
    assert first.outcome is Outcome.CREATED
    second = upsert_comment(client, pr, "prod", "plan: 2 to update")
    assert second.outcome is Outcome.UPDATED
    assert second.number == first.number
    comments = github.state.comments_on(pr)
    assert len(comments) == 1
    assert comments[0]["body"].startswith(plan_marker("prod"))
    assert comments[0]["body"].endswith("plan: 2 to update")


def test_same_body_is_not_rewritten(github: FakeGitHub, client: GitHubClient) -> None:
    pr = github.state.add_issue("pr", "", pr=True)["number"]
    upsert_comment(client, pr, "prod", "same")
    patches_before = [r for r in github.state.log if r[0] == "PATCH"]
    assert upsert_comment(client, pr, "prod", "same").outcome is Outcome.UNCHANGED
    assert [r for r in github.state.log if r[0] == "PATCH"] == patches_before


def test_one_comment_per_target(github: FakeGitHub, client: GitHubClient) -> None:
    pr = github.state.add_issue("pr", "", pr=True)["number"]
    upsert_comment(client, pr, "dev", "dev plan")
    upsert_comment(client, pr, "prod", "prod plan")
    upsert_comment(client, pr, "dev", "dev plan v2")
    bodies = sorted(c["body"] for c in github.state.comments_on(pr))
    assert len(bodies) == 2
    assert bodies[0].endswith("dev plan v2") and bodies[1].endswith("prod plan")


def test_a_quoted_marker_is_not_ours(github: FakeGitHub, client: GitHubClient) -> None:
    pr = github.state.add_issue("pr", "", pr=True)["number"]
    quoted = github.state.add_comment(pr, f"> {plan_marker('prod')}\n> old plan\nwhy?")
    result = upsert_comment(client, pr, "prod", "new plan")
    assert result.outcome is Outcome.CREATED
    assert github.state.comments[quoted["id"]]["body"].endswith("why?")


def test_marker_found_beyond_the_first_page(github: FakeGitHub, client: GitHubClient) -> None:
    github.state.page_size_cap = 10
    pr = github.state.add_issue("busy pr", "", pr=True)["number"]
    for i in range(23):
        github.state.add_comment(pr, f"human comment {i}")
    upsert_comment(client, pr, "prod", "old plan")
    for i in range(5):
        github.state.add_comment(pr, f"later comment {i}")
    result = upsert_comment(client, pr, "prod", "new plan")
    assert result.outcome is Outcome.UPDATED
    ours = [c for c in github.state.comments_on(pr) if plan_marker("prod") in c["body"]]
    assert len(ours) == 1 and ours[0]["body"].endswith("new plan")
    pages = [p for m, p in github.state.log if m == "GET" and "page=3" in p]
    assert pages, "the third page of comments was requested"


def test_drift_issue_opened_updated_closed(github: FakeGitHub, client: GitHubClient) -> None:
    opened = sync_drift_issue(client, "prod", drifted=True, report="tags.team: a -> b")
    assert opened.outcome is Outcome.CREATED
    issue = github.state.issues[opened.number]  # type: ignore[index]
    assert issue["labels"] == [{"name": DRIFT_LABEL}]
    assert "prod" in issue["title"]

    updated = sync_drift_issue(client, "prod", drifted=True, report="traffic changed")
    assert updated.outcome is Outcome.UPDATED and updated.number == opened.number
    assert issue["body"].endswith("traffic changed")
    assert len(github.state.issues) == 1

    closed = sync_drift_issue(client, "prod", drifted=False, report="", closing_note="in sync")
    assert closed.outcome is Outcome.CLOSED
    assert issue["state"] == "closed"
    assert [c["body"] for c in github.state.comments_on(opened.number)] == ["in sync"]  # type: ignore[arg-type]

    assert sync_drift_issue(client, "prod", drifted=False, report="").outcome is Outcome.NOTHING
    again = sync_drift_issue(client, "prod", drifted=True, report="drifted again")
    assert again.outcome is Outcome.CREATED and again.number != opened.number


def test_drift_issue_per_target_and_ignores_look_alikes(
    github: FakeGitHub, client: GitHubClient
) -> None:
    # An unlabelled issue quoting the marker, and a PR with it, are not the drift issue.
    github.state.add_issue("quote", "<!-- reconciler:drift target=prod -->")
    github.state.add_issue(
        "pr", "<!-- reconciler:drift target=prod -->", labels=(DRIFT_LABEL,), pr=True
    )
    dev = sync_drift_issue(client, "dev", drifted=True, report="dev drift")
    prod = sync_drift_issue(client, "prod", drifted=True, report="prod drift")
    assert dev.outcome is prod.outcome is Outcome.CREATED
    assert dev.number != prod.number
    assert sync_drift_issue(client, "dev", drifted=False, report="").outcome is Outcome.CLOSED
    assert github.state.issues[prod.number]["state"] == "open"  # type: ignore[index]


def test_errors_name_the_request_and_hint(github: FakeGitHub, client: GitHubClient) -> None:
    github.state.failures.append((403, {"message": "Resource not accessible by integration"}))
    with pytest.raises(GitHubError) as caught:
        upsert_comment(client, 1, "prod", "x")
    error = caught.value
    assert error.status == 403
    assert "Resource not accessible by integration" in error.message
    assert "/repos/acme/assets/issues/1/comments" in error.message
    assert error.hint and "pull-requests: write" in error.hint
    assert TOKEN not in str(error) + (error.hint or "")


def test_missing_pull_request_is_404(client: GitHubClient) -> None:
    with pytest.raises(GitHubError, match="HTTP 404") as caught:
        upsert_comment(client, 999, "prod", "x")
    assert caught.value.status == 404


def test_bad_token_is_401(github: FakeGitHub) -> None:
    env = {**github.env(), "GITHUB_TOKEN": "wrong"}
    with pytest.raises(GitHubError, match="Bad credentials") as caught:
        sync_drift_issue(GitHubClient.from_env(env), "prod", drifted=False, report="")
    assert caught.value.status == 401
    assert "wrong" not in caught.value.message


def test_transient_errors_are_retried(github: FakeGitHub) -> None:
    client = GitHubClient(Repo.parse(github.slug), TOKEN, api_url=github.url, backoff=0.001)
    github.state.failures += [(502, {"message": "bad gateway"}), (503, {"message": "busy"})]
    pr = github.state.add_issue("pr", "", pr=True)["number"]
    assert upsert_comment(client, pr, "prod", "x").outcome is Outcome.CREATED


def test_retries_are_bounded(github: FakeGitHub) -> None:
    client = GitHubClient(
        Repo.parse(github.slug), TOKEN, api_url=github.url, retries=1, backoff=0.001
    )
    github.state.failures += [(500, {"message": "boom"})] * 3
    with pytest.raises(GitHubError, match="HTTP 500: boom"):
        sync_drift_issue(client, "prod", drifted=False, report="")


def test_unreachable_api_is_a_clear_error() -> None:
    client = GitHubClient(Repo("a", "b"), TOKEN, api_url="http://127.0.0.1:9", retries=0, timeout=2)
    with pytest.raises(GitHubError, match="cannot reach GitHub"):
        sync_drift_issue(client, "prod", drifted=False, report="")


def test_configuration_errors() -> None:
    with pytest.raises(GitHubError, match="no GitHub token"):
        GitHubClient.from_env({"GITHUB_REPOSITORY": "a/b"})
    with pytest.raises(GitHubError, match="no repository"):
        GitHubClient.from_env({"GITHUB_TOKEN": "t"})
    with pytest.raises(GitHubError, match="owner/name"):
        GitHubClient.from_env({"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "nope"})
    assert TOKEN not in repr(GitHubClient(Repo("a", "b"), TOKEN))


def test_long_bodies_are_truncated(github: FakeGitHub, client: GitHubClient) -> None:
    pr = github.state.add_issue("pr", "", pr=True)["number"]
    upsert_comment(client, pr, "prod", "x" * 100_000)
    body = github.state.comments_on(pr)[0]["body"]
    assert len(body) <= 65536 and "truncated" in body
    assert truncate("short") == "short"
