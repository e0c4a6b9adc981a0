"""A small GitHub REST client for the two things our workflows post: a sticky plan comment on a
pull request and one drift issue per target.

Both are found again by a hidden HTML marker, so re-running a workflow updates what it posted
instead of adding noise. Only the standard library is used: the workflows run this with the
workflow token and nothing else installed. The token is sent in a header and never printed.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reconciler import __version__
from reconciler.model.errors import ReconcilerError

DEFAULT_API_URL = "https://api.github.com"
MAX_BODY = 65536
"""GitHub rejects comment and issue bodies longer than this many characters."""
DRIFT_LABEL = "reconciler-drift"
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class GitHubError(ReconcilerError):
    """The GitHub API refused or failed a request."""

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.status = status


def plan_marker(target: str) -> str:
    return f"<!-- reconciler:plan target={target} -->"


def drift_marker(target: str) -> str:
    return f"<!-- reconciler:drift target={target} -->"


@dataclass(frozen=True)
class Repo:
    owner: str
    name: str

    @classmethod
    def parse(cls, slug: str) -> Repo:
        owner, _, name = slug.partition("/")
        if not owner or not name or "/" in name:
            raise GitHubError(
                f"repository {slug!r} is not of the form owner/name",
                hint="set GITHUB_REPOSITORY or pass --repo owner/name",
            )
        return cls(owner, name)

    def __str__(self) -> str:
        return f"{self.owner}/{self.name}"


class GitHubClient:
    """Just enough of the REST API: JSON requests, Link-header pagination, bounded retries."""

    def __init__(
        self,
        repo: Repo,
        token: str,
        *,
        api_url: str = DEFAULT_API_URL,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 1.0,
    ) -> None:
        if not token:
            raise GitHubError(
                "no GitHub token",
                hint="set GITHUB_TOKEN (in a workflow: env: GITHUB_TOKEN: ${{ github.token }})",
            )
        self.repo = repo
        self.api_url = api_url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._retries = retries
        self._backoff = backoff

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, repo: str | None = None
    ) -> GitHubClient:
        """Configure from the variables GitHub Actions sets (GITHUB_REPOSITORY, GITHUB_API_URL)."""
        env = os.environ if env is None else env
        slug = repo or env.get("GITHUB_REPOSITORY", "")
        if not slug:
            raise GitHubError(
                "no repository", hint="set GITHUB_REPOSITORY or pass --repo owner/name"
            )
        token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or ""
        return cls(Repo.parse(slug), token, api_url=env.get("GITHUB_API_URL") or DEFAULT_API_URL)

    def __repr__(self) -> str:
        return f"GitHubClient(repo={self.repo}, api_url={self.api_url!r})"

    def path(self, suffix: str) -> str:
        return f"/repos/{self.repo.owner}/{self.repo.name}{suffix}"

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Any:
        data, _ = self._send(method, self._url(path, params), body)
        return data

    def paginate(self, path: str, params: Mapping[str, str | int] | None = None) -> Iterator[Any]:
        """Yield the items of every page, following ``Link: <...>; rel="next"``."""
        url: str | None = self._url(path, {"per_page": 100, **(params or {})})
        while url is not None:
            data, headers = self._send("GET", url, None)
            if not isinstance(data, list):
                raise GitHubError(f"GET {_strip(url)}: expected a list, got {type(data).__name__}")
            yield from data
            url = _next_link(headers.get("Link", ""))

    def _url(self, path: str, params: Mapping[str, str | int] | None) -> str:
        url = self.api_url + path
        if params:
            url += "?" + urllib.parse.urlencode({k: str(v) for k, v in params.items()})
        return url

    def _send(
        self, method: str, url: str, body: Mapping[str, Any] | None
    ) -> tuple[Any, Mapping[str, str]]:
        payload = None if body is None else json.dumps(body).encode()
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self._token}",
            "User-Agent": f"reconciler/{__version__}",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        if payload is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(self._retries + 1):
            request = urllib.request.Request(url, data=payload, headers=headers, method=method)
            try:
                with urllib.request.urlopen(request, timeout=self._timeout) as response:
                    raw = response.read()
                    data = json.loads(raw) if raw else None
                    return data, dict(response.headers.items())
            except urllib.error.HTTPError as error:
                if error.code in _RETRY_STATUSES and attempt < self._retries:
                    time.sleep(
                        _retry_delay(error.headers.get("Retry-After"), attempt, self._backoff)
                    )
                    continue
                raise _http_error(method, url, error) from None
            except (urllib.error.URLError, TimeoutError, OSError) as error:
                if attempt < self._retries:
                    time.sleep(self._backoff * 2**attempt)
                    continue
                reason = getattr(error, "reason", error)
                raise GitHubError(
                    f"{method} {_strip(url)}: cannot reach GitHub ({reason})",
                    hint="check GITHUB_API_URL and the network",
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover


def _strip(url: str) -> str:
    return url.split("?", 1)[0]


def _next_link(header: str) -> str | None:
    match = _NEXT_LINK.search(header)
    return match.group(1) if match else None


def _retry_delay(retry_after: str | None, attempt: int, backoff: float) -> float:
    if retry_after and retry_after.isdigit():
        return min(float(retry_after), 60.0)
    return float(backoff * 2**attempt)


def _http_error(method: str, url: str, error: urllib.error.HTTPError) -> GitHubError:
    detail = ""
    try:
        parsed = json.loads(error.read() or b"{}")
        if isinstance(parsed, dict):
            detail = str(parsed.get("message", ""))
            errors = parsed.get("errors")
            if errors:
                detail += f" {json.dumps(errors)}"
    except (ValueError, OSError):
        pass
    hints = {
        401: "the token is missing or expired",
        403: "the workflow token needs 'pull-requests: write' (comments) or 'issues: write' "
        "(drift issues); pull requests from forks get a read-only token",
        404: "check the repository name and the pull request or issue number",
    }
    message = f"{method} {_strip(url)} failed: HTTP {error.code}"
    if detail:
        message += f": {detail.strip()}"
    return GitHubError(message, status=error.code, hint=hints.get(error.code))


def truncate(body: str, limit: int = MAX_BODY) -> str:
    """Keep a body under GitHub's limit, saying so instead of failing the workflow."""
    if len(body) <= limit:
        return body
    note = "\n\n... (truncated: the full output is in the workflow run log)\n"
    return body[: limit - len(note)] + note


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    CLOSED = "closed"
    NOTHING = "nothing"


@dataclass(frozen=True)
class Posted:
    """What a sync did, and the comment or issue it touched (with its web URL)."""

    outcome: Outcome
    number: int | None = None
    url: str | None = None


def upsert_comment(client: GitHubClient, pull: int, target: str, body: str) -> Posted:
    """Post the plan comment for one target on a pull request, or edit the one already there.

    Ours are the comments that *start* with the target's marker: someone quoting one of our
    comments does not get their comment overwritten.
    """
    marker = plan_marker(target)
    full = truncate(f"{marker}\n{body}")
    for comment in client.paginate(client.path(f"/issues/{pull}/comments")):
        if (comment.get("body") or "").startswith(marker):
            if comment.get("body") == full:
                return Posted(Outcome.UNCHANGED, comment["id"], comment.get("html_url"))
            updated = client.request(
                "PATCH", client.path(f"/issues/comments/{comment['id']}"), body={"body": full}
            )
            return Posted(Outcome.UPDATED, updated["id"], updated.get("html_url"))
    created = client.request("POST", client.path(f"/issues/{pull}/comments"), body={"body": full})
    return Posted(Outcome.CREATED, created["id"], created.get("html_url"))


def find_drift_issue(client: GitHubClient, target: str) -> dict[str, Any] | None:
    """The open drift issue of a target: labelled, and carrying the target's marker."""
    marker = drift_marker(target)
    params = {"state": "open", "labels": DRIFT_LABEL}
    for issue in client.paginate(client.path("/issues"), params):
        if "pull_request" not in issue and (issue.get("body") or "").startswith(marker):
            return dict(issue)
    return None


def drift_title(target: str) -> str:
    return f"Drift detected on target {target}"


def sync_drift_issue(
    client: GitHubClient,
    target: str,
    *,
    drifted: bool,
    report: str,
    closing_note: str | None = None,
) -> Posted:
    """Open or update the target's drift issue while drifted; close it once back in sync."""
    issue = find_drift_issue(client, target)
    if not drifted:
        if issue is None:
            return Posted(Outcome.NOTHING)
        number = int(issue["number"])
        note = closing_note or f"Target `{target}` is back in sync with the manifests."
        client.request("POST", client.path(f"/issues/{number}/comments"), body={"body": note})
        client.request(
            "PATCH",
            client.path(f"/issues/{number}"),
            body={"state": "closed", "state_reason": "completed"},
        )
        return Posted(Outcome.CLOSED, number, issue.get("html_url"))
    body = truncate(f"{drift_marker(target)}\n{report}")
    if issue is None:
        created = client.request(
            "POST",
            client.path("/issues"),
            body={"title": drift_title(target), "body": body, "labels": [DRIFT_LABEL]},
        )
        return Posted(Outcome.CREATED, int(created["number"]), created.get("html_url"))
    number = int(issue["number"])
    if issue.get("body") == body:
        return Posted(Outcome.UNCHANGED, number, issue.get("html_url"))
    client.request("PATCH", client.path(f"/issues/{number}"), body={"body": body})
    return Posted(Outcome.UPDATED, number, issue.get("html_url"))
