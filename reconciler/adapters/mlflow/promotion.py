"""Promotion records: the approval behind each alias move, kept as model version tags.

Tags are per alias (``reconciler.approval.champion``) so one version promoted to two aliases
keeps both approvals, and a version that loses an alias keeps its record: the registry holds
the audit trail of who approved each promotion.
"""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime

OWN_TAG_PREFIX = "reconciler."
"""Tags the tool writes itself (ownership, records): never compared, never set by a manifest."""
APPROVAL_TAG_PREFIX = "reconciler.approval."
"""Version tag ``reconciler.approval.<alias>``: the approval reference of that promotion."""
PROMOTION_TAG_PREFIX = "reconciler.promoted."
"""Version tag ``reconciler.promoted.<alias>``: when, by whom and from which project."""


def own_tag(key: str) -> bool:
    return key.startswith(OWN_TAG_PREFIX)


def approval_tag(alias: str) -> str:
    return APPROVAL_TAG_PREFIX + alias


def promotion_tag(alias: str) -> str:
    return PROMOTION_TAG_PREFIX + alias


def promotion_record(approval: str | None, project: str | None, commit: str | None) -> str:
    """``<when> by <who> (project <p>) approval <ref> commit <sha>``: readable in any UI."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    record = f"{stamp} by {actor()}"
    if project:
        record += f" (project {project})"
    if approval:
        record += f" approval {approval}"
    if commit:
        record += f" commit {commit}"
    return record


def actor() -> str:
    """Who runs the apply: the CI actor when there is one, else the local user."""
    for var in ("GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILD_REQUESTEDFOR", "USER"):
        if value := os.environ.get(var):
            return value
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"
