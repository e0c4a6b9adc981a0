"""Unity Catalog grants, a field of the assets that are securables: registered models
(securable type FUNCTION) and vector indexes (TABLE).

``grants: [{user | group | service_principal: NAME, privileges: [...]}]``. The list is
authoritative for the principals it names: each ends up with exactly the privileges listed.
Principals it does not name keep whatever others granted them, except those this project granted
earlier and has since removed from the list: their recorded privileges are revoked, and nothing
else. The record is kept by the adapter (a marker beside the securable, written before each
grant) and read back as the live document's ``granted_by`` (project -> principal ->
privileges), so the plan shows each revoke before it happens.

Grants are fields of the securable, not assets of their own: a securable re-created by a
replace gets its grants again in the same change, and a grant never outlives its securable in
a plan. A manifest that leaves ``grants`` out does not manage them (``grants: []`` revokes what
this project granted).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any, ClassVar, Self

from pydantic import Field, field_validator, model_validator

from reconciler.model.changes import FieldDiff
from reconciler.model.spec import FieldError, Spec

ALL_PRIVILEGES = "ALL_PRIVILEGES"
PRINCIPAL_FIELDS = ("user", "group", "service_principal")
GRANTS = "grants"
GRANTED_BY = "granted_by"
"""Live document key: what each project recorded granting (project -> principal -> list)."""
UC_PRIVILEGES = frozenset(
    [
        "ACCESS",
        "ALL_PRIVILEGES",
        "APPLY_TAG",
        "BROWSE",
        "CREATE",
        "CREATE_CATALOG",
        "CREATE_CLEAN_ROOM",
        "CREATE_CONNECTION",
        "CREATE_EXTERNAL_LOCATION",
        "CREATE_EXTERNAL_TABLE",
        "CREATE_EXTERNAL_VOLUME",
        "CREATE_FEATURE",
        "CREATE_FOREIGN_CATALOG",
        "CREATE_FOREIGN_SECURABLE",
        "CREATE_FUNCTION",
        "CREATE_MANAGED_STORAGE",
        "CREATE_MATERIALIZED_VIEW",
        "CREATE_MODEL",
        "CREATE_PROVIDER",
        "CREATE_RECIPIENT",
        "CREATE_SCHEMA",
        "CREATE_SERVICE_CREDENTIAL",
        "CREATE_SHARE",
        "CREATE_STORAGE_CREDENTIAL",
        "CREATE_TABLE",
        "CREATE_VIEW",
        "CREATE_VOLUME",
        "EXECUTE",
        "EXECUTE_CLEAN_ROOM_TASK",
        "EXTERNAL_USE_LOCATION",
        "EXTERNAL_USE_SCHEMA",
        "MANAGE",
        "MANAGE_ALLOWLIST",
        "MODIFY",
        "MODIFY_CLEAN_ROOM",
        "READ_FEATURE",
        "READ_FILES",
        "READ_METADATA",
        "READ_PRIVATE_FILES",
        "READ_VOLUME",
        "REFRESH",
        "SELECT",
        "SET_SHARE_PERMISSION",
        "USAGE",
        "USE_CATALOG",
        "USE_CONNECTION",
        "USE_MARKETPLACE_ASSETS",
        "USE_PROVIDER",
        "USE_RECIPIENT",
        "USE_SCHEMA",
        "USE_SHARE",
        "WRITE_FILES",
        "WRITE_PRIVATE_FILES",
        "WRITE_VOLUME",
    ]
)
"""Every Unity Catalog privilege name (the API's ``Privilege`` enum): one of these that a
securable does not take "does not apply"; any other name is unknown."""
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class ModelPrivilege(StrEnum):
    """Privileges on a registered model (securable type FUNCTION)."""

    ALL_PRIVILEGES = "ALL_PRIVILEGES"
    APPLY_TAG = "APPLY_TAG"
    EXECUTE = "EXECUTE"
    MANAGE = "MANAGE"


class IndexPrivilege(StrEnum):
    """Privileges on a vector index (securable type TABLE)."""

    ALL_PRIVILEGES = "ALL_PRIVILEGES"
    APPLY_TAG = "APPLY_TAG"
    MANAGE = "MANAGE"
    MODIFY = "MODIFY"
    SELECT = "SELECT"


class GrantSpec(Spec):
    """One principal and its privileges; exactly one of user, group, service_principal."""

    securable: ClassVar[str] = ""
    """What messages call the securable (``registered models``)."""
    allowed: ClassVar[tuple[str, ...]] = ()

    user: str | None = None
    """A user, by email."""
    group: str | None = None
    """A group, by name."""
    service_principal: str | None = None
    """A service principal, by application id."""
    privileges: list[str] = Field(min_length=1)
    """Privileges this principal holds on the securable (the API's names)."""

    @field_validator("privileges", mode="before")
    @classmethod
    def _known(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        for index, privilege in enumerate(value):
            if isinstance(privilege, str) and privilege not in cls.allowed:
                raise FieldError(cls._not_allowed(privilege), at=(index,))
        return value

    @classmethod
    def _not_allowed(cls, privilege: str) -> str:
        listed = f" (privileges: {', '.join(cls.allowed)})"
        spelled = privilege.upper().replace(" ", "_").replace("-", "_")
        if spelled in cls.allowed:
            return f"privilege {privilege!r} is spelled {spelled!r} (the API's name){listed}"
        if spelled in UC_PRIVILEGES:
            return f"privilege {privilege!r} does not apply to {cls.securable}{listed}"
        close = difflib.get_close_matches(spelled, cls.allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown privilege {privilege!r} for {cls.securable}{hint}{listed}"

    @model_validator(mode="after")
    def _one_principal(self) -> Self:
        given = [f for f in PRINCIPAL_FIELDS if getattr(self, f) is not None]
        if len(given) != 1:
            raise FieldError(
                "a grant names exactly one of user, group, service_principal"
                + (f" (here: {', '.join(given)})" if given else ""),
                at=(given[1],) if len(given) > 1 else (),
                key=len(given) > 1,
            )
        return self

    @property
    def principal(self) -> str:
        return str(self.user or self.group or self.service_principal)


class ModelGrantSpec(GrantSpec):
    securable: ClassVar[str] = "registered models"
    allowed: ClassVar[tuple[str, ...]] = tuple(p.value for p in ModelPrivilege)
    privileges: list[str] = Field(
        min_length=1, json_schema_extra={"items": {"enum": list(allowed)}}
    )
    """Privileges on the model: ALL_PRIVILEGES, APPLY_TAG, EXECUTE (load and serve it),
    MANAGE."""


class IndexGrantSpec(GrantSpec):
    securable: ClassVar[str] = "vector indexes"
    allowed: ClassVar[tuple[str, ...]] = tuple(p.value for p in IndexPrivilege)
    privileges: list[str] = Field(
        min_length=1, json_schema_extra={"items": {"enum": list(allowed)}}
    )
    """Privileges on the index: ALL_PRIVILEGES, APPLY_TAG, MANAGE, MODIFY, SELECT (query
    it)."""


def check_unique(grants: Sequence[GrantSpec] | None) -> None:
    """Raise FieldError (under ``grants``) when two entries name one principal."""
    seen: dict[str, int] = {}
    for index, grant in enumerate(grants or []):
        if grant.principal in seen:
            field = next(f for f in PRINCIPAL_FIELDS if getattr(grant, f) is not None)
            raise FieldError(
                f"grants name {grant.principal!r} twice (entries {seen[grant.principal] + 1}"
                f" and {index + 1}); give each principal one entry with all its privileges",
                at=(GRANTS, index, field),
            )
        seen[grant.principal] = index


def principal_of(entry: Mapping[str, Any]) -> str:
    for field in (*PRINCIPAL_FIELDS, "principal"):
        if entry.get(field):
            return str(entry[field])
    return ""


def canonical_privileges(privileges: Iterable[str]) -> list[str]:
    """Sorted without repeats; ALL_PRIVILEGES stands for everything it implies (a workspace
    may list it beside the privileges it implies)."""
    found = sorted(set(privileges))
    return [ALL_PRIVILEGES] if ALL_PRIVILEGES in found else found


def canonical_grants(grants: Any) -> list[dict[str, Any]]:
    """Entries sorted by principal, each with canonical privileges (folded both sides)."""
    out = []
    for entry in grants or []:
        kept = {k: entry[k] for k in PRINCIPAL_FIELDS if entry.get(k)}
        out.append({**kept, "privileges": canonical_privileges(entry.get("privileges") or [])})
    return sorted(out, key=principal_of)


def by_principal(grants: Any) -> dict[str, list[str]]:
    return {principal_of(e): canonical_privileges(e.get("privileges") or []) for e in grants or []}


def diff_grants(
    desired: Mapping[str, Any], live: Mapping[str, Any], project: str
) -> list[FieldDiff]:
    """``grants.<principal>`` diffs: the principals the manifest names get exactly their
    privileges; a principal this project recorded granting and no longer names loses what was
    recorded (and still held), nothing more."""
    if GRANTS not in desired:
        return []
    want = by_principal(desired[GRANTS])
    have = by_principal(live.get(GRANTS))
    recorded = (live.get(GRANTED_BY) or {}).get(project) or {}
    diffs = []
    for principal in sorted(set(want) | set(recorded)):
        held = have.get(principal, [])
        if principal in want:
            after: list[str] | None = want[principal]
        else:
            kept = [p for p in held if p not in set(recorded[principal])]
            if ALL_PRIVILEGES in recorded[principal]:
                kept = []
            after = kept or None
        before = held or None
        if before != after:
            diffs.append(FieldDiff(path=f"{GRANTS}.{principal}", before=before, after=after))
    return diffs


def grant_changes(diffs: Sequence[FieldDiff]) -> list[dict[str, Any]]:
    """``grants.<principal>`` diffs as the grants API's changes ``{principal, add, remove}``."""
    out = []
    for diff in diffs:
        if not diff.path.startswith(GRANTS + "."):
            continue
        before, after = set(diff.before or []), set(diff.after or [])
        change: dict[str, Any] = {"principal": diff.path[len(GRANTS) + 1 :]}
        if after - before:
            change["add"] = sorted(after - before)
        if before - after:
            change["remove"] = sorted(before - after)
        if len(change) > 1:
            out.append(change)
    return out


def creation_changes(grants: Any) -> list[dict[str, Any]]:
    """Every desired grant, for a securable that was just created."""
    return [
        {"principal": principal, "add": privileges}
        for principal, privileges in by_principal(grants).items()
    ]


def principal_field(name: str) -> str:
    """The grants API names principals without saying what they are: an email is a user, an
    application id (a UUID) a service principal, anything else a group."""
    if "@" in name:
        return "user"
    if UUID.match(name):
        return "service_principal"
    return "group"


def import_grants(grants: Any) -> list[dict[str, Any]]:
    """Live grants as manifest entries (principal kind guessed from the name)."""
    return [
        {principal_field(p): p, "privileges": privileges}
        for p, privileges in sorted(by_principal(grants).items())
    ]


def record_after(
    recorded: Mapping[str, Sequence[str]],
    desired: Any,
    diffs: Sequence[FieldDiff],
    held: Mapping[str, Sequence[str]],
) -> dict[str, list[str]]:
    """What this project has granted once a change is applied: every principal the manifest
    names, with its privileges; and earlier records of principals no longer named whose
    revoke did not happen in this change (an ignored diff), kept only for what they still
    hold."""
    out = {p: list(v) for p, v in by_principal(desired).items()}
    touched = {d.path[len(GRANTS) + 1 :] for d in diffs if d.path.startswith(GRANTS + ".")}
    for principal, privileges in recorded.items():
        if principal in out or principal in touched:
            continue
        still = [p for p in privileges if p in set(held.get(principal, []))]
        if still:
            out[principal] = still
    return dict(sorted(out.items()))
