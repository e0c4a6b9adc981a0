"""A small in-memory fake of the GitHub REST API parts our workflows use, on 127.0.0.1.

Issues, issue comments, labels filter, Link-header pagination, bearer auth, and injected
failures. It keeps a log of requests so tests can check what was (not) called.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

TOKEN = "ghs_fake_token_value_123"


@dataclass
class FakeState:
    owner: str = "acme"
    repo: str = "assets"
    page_size_cap: int = 100
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)
    failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    next_number: int = 1
    next_comment: int = 1000

    def add_issue(self, title: str, body: str, *, labels: tuple[str, ...] = (), pr: bool = False):
        number = self.next_number
        self.next_number += 1
        issue = {
            "number": number,
            "title": title,
            "body": body,
            "state": "open",
            "labels": [{"name": n} for n in labels],
            "html_url": f"https://github.test/{self.owner}/{self.repo}/issues/{number}",
        }
        if pr:
            issue["pull_request"] = {"url": "x"}
        self.issues[number] = issue
        return issue

    def add_comment(self, issue: int, body: str) -> dict[str, Any]:
        cid = self.next_comment
        self.next_comment += 1
        comment = {
            "id": cid,
            "issue": issue,
            "body": body,
            "html_url": f"https://github.test/{self.owner}/{self.repo}/issues/{issue}#c{cid}",
        }
        self.comments[cid] = comment
        return comment

    def comments_on(self, issue: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.values() if c["issue"] == issue]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def _handle(self, method: str) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        with self.server.lock:
            state.log.append((method, self.path))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._reply(401, {"message": "Bad credentials"})
            if state.failures:
                status, payload = state.failures.pop(0)
                return self._reply(status, payload)
            prefix = f"/repos/{state.owner}/{state.repo}"
            if not parts.path.startswith(prefix):
                return self._reply(404, {"message": "Not Found"})
            route = parts.path[len(prefix) :]
            return self._route(method, route, query, body)

    def _page(self, items: list[dict[str, Any]], query: dict[str, str], path: str) -> None:
        per_page = min(int(query.get("per_page", 30)), self.server.state.page_size_cap)
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            nxt = urlencode({**query, "page": page + 1})
            headers["Link"] = f'<{self.server.url}{path}?{nxt}>; rel="next"'
        self._reply(200, chunk, headers)

    def _route(self, method: str, route: str, query: dict[str, str], body: Any) -> None:
        state = self.server.state
        full = urlsplit(self.path).path
        if m := re.fullmatch(r"/issues/(\d+)/comments", route):
            number = int(m.group(1))
            if number not in state.issues:
                return self._reply(404, {"message": "Not Found"})
            if method == "GET":
                return self._page(state.comments_on(number), query, full)
            if method == "POST":
                return self._reply(201, state.add_comment(number, body["body"]))
        if m := re.fullmatch(r"/issues/comments/(\d+)", route):
            comment = state.comments.get(int(m.group(1)))
            if comment is None:
                return self._reply(404, {"message": "Not Found"})
            if method == "PATCH":
                comment["body"] = body["body"]
                return self._reply(200, comment)
        if route == "/issues":
            if method == "GET":
                wanted = query.get("state", "open")
                label = query.get("labels")
                items = [
                    i
                    for i in state.issues.values()
                    if (wanted == "all" or i["state"] == wanted)
                    and (label is None or label in [x["name"] for x in i["labels"]])
                ]
                return self._page(items, query, full)
            if method == "POST":
                if not body.get("title"):
                    return self._reply(
                        422, {"message": "Validation Failed", "errors": [{"field": "title"}]}
                    )
                return self._reply(
                    201,
                    state.add_issue(body["title"], body.get("body", ""), labels=body["labels"]),
                )
        if m := re.fullmatch(r"/issues/(\d+)", route):
            issue = state.issues.get(int(m.group(1)))
            if issue is None:
                return self._reply(404, {"message": "Not Found"})
            if method == "PATCH":
                issue.update({k: v for k, v in body.items() if k in ("body", "state", "title")})
                return self._reply(200, issue)
        return self._reply(404, {"message": "Not Found"})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: FakeState
    lock: threading.Lock
    url: str


class FakeGitHub:
    """``with FakeGitHub() as gh: gh.url, gh.state``."""

    def __init__(self) -> None:
        self.state = FakeState()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state
        self._server.lock = threading.Lock()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._server.url = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def __enter__(self) -> FakeGitHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def slug(self) -> str:
        return f"{self.state.owner}/{self.state.repo}"

    def env(self) -> dict[str, str]:
        return {
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_REPOSITORY": self.slug,
            "GITHUB_API_URL": self.url,
            "GITHUB_SERVER_URL": "https://github.test",
            "GITHUB_RUN_ID": "42",
            "GITHUB_SHA": "0123456789abcdef0123",
        }
