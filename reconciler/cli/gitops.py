"""``reconciler gitops ...``: the steps the GitHub workflows run after plan and drift.

Kept out of the workflow files on purpose: the logic is tested here, and the workflows pass
only exit codes and file names to it, never text from a pull request.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from reconciler.cli.common import EXIT_ERROR, ReconcilerGroup, handle_errors, options
from reconciler.gitops import report
from reconciler.gitops.github import GitHubClient, Posted, sync_drift_issue, upsert_comment
from reconciler.gitops.targets import affected_targets, changed_files, git_toplevel
from reconciler.gitops.trust import ToolChanges, tool_changes
from reconciler.manifest import load_project
from reconciler.project import TargetType, find_project_file, select_target


def _read(path: Path | None) -> str:
    if path is None or not path.exists():
        return ""
    return path.read_text(encoding="utf-8", errors="replace")


def _say(what: str, posted: Posted) -> None:
    where = f" #{posted.number}" if posted.number is not None else ""
    url = f" {posted.url}" if posted.url else ""
    click.echo(f"{what}{where}: {posted.outcome.value}{url}", err=True)


@click.group("gitops", cls=ReconcilerGroup)
def gitops() -> None:
    """Post plans on pull requests and keep drift issues current (used by the workflows).

    \b
    Environment: GITHUB_TOKEN (never printed), GITHUB_REPOSITORY, GITHUB_API_URL,
    and for the links GITHUB_SERVER_URL, GITHUB_RUN_ID, GITHUB_SHA.
    """


_repo_option = click.option("--repo", default=None, help="owner/name (default: GITHUB_REPOSITORY).")
_file = click.Path(dir_okay=False, path_type=Path)


@gitops.command("comment")
@click.option("-t", "--target", required=True, help="Target the plan is for.")
@click.option("--pr", "pull", type=int, required=True, envvar="PR_NUMBER", help="Pull request.")
@click.option("--exit-code", type=int, required=True, help="Exit code of `reconciler plan`.")
@click.option("--plan", "plan_file", type=_file, help="Markdown output of `reconciler plan`.")
@click.option("--log", "log_file", type=_file, help="Error output, shown when the plan failed.")
@click.option(
    "--changes",
    "changes_file",
    type=_file,
    help="Output of `gitops changes`: a warning at the top when the tool itself changed.",
)
@_repo_option
@handle_errors
def comment(
    target: str,
    pull: int,
    exit_code: int,
    plan_file: Path | None,
    log_file: Path | None,
    changes_file: Path | None,
    repo: str | None,
) -> None:
    """Post or update the one sticky plan comment of TARGET on a pull request.

    Exits 1 after posting when the plan itself failed, so the check fails too.
    """
    warning = ToolChanges.from_json(_read(changes_file)).banner() if changes_file else ""
    body = report.plan_comment(
        target, exit_code, _read(plan_file), _read(log_file), report.RunInfo.from_env(), warning
    )
    posted = upsert_comment(GitHubClient.from_env(repo=repo), pull, target, body)
    _say(f"plan comment for {target} on #{pull}", posted)
    if exit_code == report.EXIT_ERROR:
        sys.exit(EXIT_ERROR)


@gitops.command("drift-issue")
@click.option("-t", "--target", required=True, help="Target the drift report is for.")
@click.option("--exit-code", type=int, required=True, help="Exit code of `reconciler drift`.")
@click.option("--report", "report_file", type=_file, help="Markdown output of `reconciler drift`.")
@_repo_option
@handle_errors
def drift_issue(target: str, exit_code: int, report_file: Path | None, repo: str | None) -> None:
    """Open or update TARGET's drift issue on drift (exit code 2), close it when in sync (0).

    An error (1) leaves the issue as it is and exits 1, so the scheduled run shows red.
    """
    report.check_exit_code(exit_code, "drift")
    if exit_code == report.EXIT_ERROR:
        click.echo(f"drift check of {target} failed; the drift issue is left as it is", err=True)
        sys.exit(EXIT_ERROR)
    run = report.RunInfo.from_env()
    drifted = exit_code == report.EXIT_CHANGES
    posted = sync_drift_issue(
        GitHubClient.from_env(repo=repo),
        target,
        drifted=drifted,
        report=report.drift_issue_body(target, _read(report_file), run) if drifted else "",
        closing_note=report.closing_note(target, run),
    )
    _say(f"drift issue for {target}", posted)


@gitops.command("changes")
@click.option("--base", required=True, help="The pull request's base revision.")
@click.option("--head", default="HEAD", show_default=True, help="The revision to compare.")
@handle_errors
def changes(base: str, head: str) -> None:
    """Print, as JSON, what a change does to the tool itself: its code, the workflows, and the
    connection settings of reconciler.yaml targets (type, host, profile, tracking_uri,
    state_dir).

    \b
    {"base": ..., "tool": [paths], "workflows": [paths], "targets": [sentences],
     "untrusted": true|false}
    The plan workflow runs this from the base branch and hands the file to `gitops comment
    --changes`, which warns reviewers at the top of the plan comment.
    """
    project_dir = find_project_file(options().project_dir).parent
    click.echo(tool_changes(git_toplevel(project_dir), base, head, project_dir).to_json())


@gitops.command("targets")
@click.option(
    "--changed-from",
    "base",
    default=None,
    help="Only if the manifests changed since this revision (merge base with HEAD).",
)
@click.option(
    "--type",
    "types",
    multiple=True,
    type=click.Choice(["sandbox", "databricks", "mlflow"]),
    help="Target types to list (default: all but sandbox).",
)
@click.option("--only", "only", multiple=True, help="Just these targets (checked to exist).")
@handle_errors
def targets(base: str | None, types: tuple[str, ...], only: tuple[str, ...]) -> None:
    """Print the targets to plan or apply as a JSON list (for a workflow matrix)."""
    project = load_project(options().project_dir)
    if only:
        click.echo(json.dumps(sorted({select_target(project, name)[0] for name in only})))
        return
    changed, top = None, None
    if base:
        top = git_toplevel(project.root)
        changed = changed_files(top, base)
    names = affected_targets(
        project, changed, repo_root=top, types=[TargetType(t) for t in types] or None
    )
    click.echo(json.dumps(names))
