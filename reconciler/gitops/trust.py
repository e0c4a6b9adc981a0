"""What in a pull request reviewers must not take on trust: changes to the tool itself.

A plan is only as trustworthy as the code that made it and the hosts it talked to. A pull
request that edits the tool's code, the workflows, or the targets' connection settings in
``reconciler.yaml`` could make its own plan comment lie (or aim credentials elsewhere), so the
plan job runs the tool from the base branch and says at the top of its comment what changed.
The comparison runs from the base branch's copy of this module too, never the pull request's.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.gitops.targets import changed_files
from reconciler.manifest.source import match_glob
from reconciler.model.errors import ReconcilerError
from reconciler.project import PROJECT_FILE

TOOL_PATHS = (
    "reconciler",
    "reconciler/**",
    "pyproject.toml",
    "uv.lock",
    "Makefile",
    "scripts",
    "scripts/**",
    "setup.py",
    "setup.cfg",
)
"""Repository paths whose changes alter the code the plan job installs and runs."""
WORKFLOW_PATHS = (".github", ".github/**")
CONNECTION_FIELDS = ("type", "host", "profile", "tracking_uri", "state_dir")
"""The target settings that decide where a target connects (and so where credentials go)."""
_SHOWN = 10


@dataclass(frozen=True)
class ToolChanges:
    """Changed tool files, workflow files, and target connection changes (as sentences)."""

    base: str
    tool: tuple[str, ...] = ()
    workflows: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()

    @property
    def untrusted(self) -> bool:
        return bool(self.tool or self.workflows or self.targets)

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "untrusted": self.untrusted}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ToolChanges:
        try:
            data = json.loads(text)
            return cls(
                base=str(data["base"]),
                tool=tuple(map(str, data.get("tool", ()))),
                workflows=tuple(map(str, data.get("workflows", ()))),
                targets=tuple(map(str, data.get("targets", ()))),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ReconcilerError(
                f"not the output of `reconciler gitops changes`: {exc}",
                hint="pass the file `reconciler gitops changes --base REV` wrote",
            ) from None

    def banner(self) -> str:
        """Markdown for the top of the plan comment; empty when nothing needs saying."""
        if not self.untrusted:
            return ""
        lines = [
            "> [!WARNING]",
            "> **This pull request changes the tool itself.** The plan below was made by the"
            f" tool from the base branch (`{_code(self.base[:12])}`), not by this branch's code."
            " Review these changes before trusting it:",
        ]
        if self.tool:
            lines.append(f"> - tool code: {_listing(self.tool)}")
        if self.workflows:
            lines.append(
                f"> - workflows: {_listing(self.workflows)} (this pull request's runs already"
                " use them)"
            )
        for sentence in self.targets[:_SHOWN]:
            lines.append(f"> - {sentence}")
        if len(self.targets) > _SHOWN:
            lines.append(f"> - and {len(self.targets) - _SHOWN} more target changes")
        return "\n".join(lines) + "\n"


def _code(text: str) -> str:
    """Pull-request text (paths, names, hosts) made inert in a comment: one line, no backticks."""
    clean = "".join(c if c.isprintable() else "?" for c in text).replace("`", "'")
    return clean if len(clean) <= 120 else clean[:117] + "..."


def _listing(paths: tuple[str, ...]) -> str:
    shown = ", ".join(f"`{_code(p)}`" for p in paths[:_SHOWN])
    more = len(paths) - _SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )


def _project_file_at(repo: Path, rev: str, path: str) -> str | None:
    result = _git(repo, "show", f"{rev}:{path}")
    return result.stdout if result.returncode == 0 else None


def _connections(text: str | None) -> dict[str, dict[str, Any]]:
    if text is None:
        return {}
    data = yaml.safe_load(text)
    targets = data.get("targets") if isinstance(data, dict) else None
    if not isinstance(targets, dict):
        raise ValueError("no targets mapping")
    return {
        str(name): {f: t.get(f) for f in CONNECTION_FIELDS} if isinstance(t, dict) else {}
        for name, t in targets.items()
    }


def target_changes(before: str | None, after: str | None, file: str) -> list[str]:
    """Sentences for each target added, removed, or connecting elsewhere between two versions
    of the project file. Text that does not parse counts as a change: it cannot be vetted."""
    try:
        old, new = _connections(before), _connections(after)
    except (yaml.YAMLError, ValueError) as exc:
        return [f"{_code(file)}: the targets could not be compared ({_code(str(exc))})"]
    sentences = []
    for name in sorted(old.keys() | new.keys()):
        if name not in old:
            settings = ", ".join(f"{k} `{_code(str(v))}`" for k, v in new[name].items() if v)
            sentences.append(f"target `{_code(name)}` added ({settings})")
        elif name not in new:
            sentences.append(f"target `{_code(name)}` removed")
        else:
            for field in CONNECTION_FIELDS:
                was, now = old[name].get(field), new[name].get(field)
                if was != now:
                    sentences.append(
                        f"target `{_code(name)}`: {field} `{_code(str(was))}` → `{_code(str(now))}`"
                    )
    return sentences


def tool_changes(
    repo_root: Path, base: str, head: str = "HEAD", project_dir: Path | None = None
) -> ToolChanges:
    """Compare ``head`` with its merge base with ``base`` (as the plan's target list does)."""
    files = changed_files(repo_root, base, head)
    merge_base = _git(repo_root, "merge-base", base, head)
    if merge_base.returncode != 0:
        raise ReconcilerError(
            f"no merge base of {base!r} and {head!r}: {merge_base.stderr.strip()}",
            hint="fetch enough history (actions/checkout with fetch-depth: 0)",
        )
    root = repo_root.resolve()
    project_root = (project_dir or root).resolve()
    project_file = (project_root / PROJECT_FILE).relative_to(root).as_posix()
    targets: list[str] = []
    if project_file in files:
        targets = target_changes(
            _project_file_at(repo_root, merge_base.stdout.strip(), project_file),
            _project_file_at(repo_root, head, project_file),
            project_file,
        )
    return ToolChanges(
        base=base,
        tool=tuple(f for f in files if any(match_glob(f, g) for g in TOOL_PATHS)),
        workflows=tuple(f for f in files if any(match_glob(f, g) for g in WORKFLOW_PATHS)),
        targets=tuple(targets),
    )
