"""The words around a plan or drift report as people read them on GitHub.

The plan and drift renderers produce the tables; this adds the heading, the verdict taken from
the command's exit code, the error output when the command failed, and a link back to the run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.model.errors import ReconcilerError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
_MAX_LOG = 6000


@dataclass(frozen=True)
class RunInfo:
    """Where a report came from: commit and workflow run (from the Actions environment)."""

    sha: str | None = None
    run_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RunInfo:
        env = os.environ if env is None else env
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        repo, run_id = env.get("GITHUB_REPOSITORY"), env.get("GITHUB_RUN_ID")
        run_url = f"{server}/{repo}/actions/runs/{run_id}" if repo and run_id else None
        sha = env.get("PR_HEAD_SHA") or env.get("GITHUB_SHA")
        return cls(sha=sha, run_url=run_url)

    def footer(self) -> str:
        parts = []
        if self.sha:
            parts.append(f"commit `{self.sha[:12]}`")
        if self.run_url:
            parts.append(f"[workflow run]({self.run_url})")
        return ("<sub>" + " · ".join(parts) + "</sub>") if parts else ""


def check_exit_code(code: int, command: str) -> None:
    if code not in (EXIT_OK, EXIT_ERROR, EXIT_CHANGES):
        raise ReconcilerError(
            f"unexpected exit code {code} from `reconciler {command}`",
            hint="pass the exit code of the command whose output you post (0, 1 or 2)",
        )


def _log_block(log: str) -> str:
    text = log.strip()
    if len(text) > _MAX_LOG:
        text = "...\n" + text[-_MAX_LOG:]
    fence = "````" if "```" in text else "```"
    return f"{fence}text\n{text}\n{fence}"


def plan_comment(
    target: str,
    exit_code: int,
    plan_markdown: str,
    log: str = "",
    run: RunInfo | None = None,
    warning: str = "",
) -> str:
    """The sticky comment for one target: the rendered plan (which has its own heading), what
    merging does, or the error when the plan failed; ``warning`` (changes to the tool itself)
    goes first, above everything else."""
    check_exit_code(exit_code, "plan")
    lines: list[str] = [warning.strip(), ""] if warning.strip() else []
    if exit_code == EXIT_ERROR or not plan_markdown.strip():
        lines += [f"### reconciler plan · `{target}`", ""]
    if exit_code == EXIT_ERROR:
        lines += [
            "**The plan failed**; nothing will be applied until it passes.",
            "",
            _log_block(log or "(no output)"),
            "",
        ]
    else:
        if plan_markdown.strip():
            lines += [plan_markdown.strip(), ""]
        lines.append(
            f"Merging this pull request applies this plan to `{target}`."
            if exit_code == EXIT_CHANGES
            else f"No changes: `{target}` already matches this branch."
        )
        lines.append("")
    footer = (run or RunInfo()).footer()
    if footer:
        lines.append(footer)
    return "\n".join(lines).rstrip() + "\n"


def drift_issue_body(target: str, report_markdown: str, run: RunInfo | None = None) -> str:
    """The drift issue body: what differs and what is not healthy, and how to resolve each."""
    lines = [
        f"The live workspace of target `{target}` differs from the manifests on the default "
        "branch, or holds declared assets that are not healthy.",
        "",
        report_markdown.strip(),
        "",
        "To resolve drift: either change the manifests to accept the live values (a pull "
        f"request), or run `reconciler apply -t {target}` to restore the manifest values; "
        "fields other teams own can be listed under `ignore:` in reconciler.yaml. A degraded "
        "asset (a failed update, a stopped endpoint, an offline index) needs someone to act on "
        "the workspace, as its message says. This issue is updated by every drift run and "
        "closed once the target is back in sync and healthy.",
    ]
    footer = (run or RunInfo()).footer()
    if footer:
        lines += ["", footer]
    return "\n".join(lines).rstrip() + "\n"


def closing_note(target: str, run: RunInfo | None = None) -> str:
    footer = (run or RunInfo()).footer()
    text = f"Target `{target}` is back in sync with the manifests and healthy; closing."
    return f"{text}\n\n{footer}" if footer else text
