"""Who the client acts as (SCIM ``Me``), as a permissions entry names a principal.

A user is named by its user name (an email); a service principal's SCIM user name is its
application id, a UUID, which is how permissions name it (the heuristic the Databricks CLI
uses too). Read once per plan, and only when a kind asks (``ExtraRead.CALLER``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from reconciler.adapters.databricks.reading import KindReader, Task, translated
from reconciler.model.errors import WorkspaceError

ME = "/api/2.0/preview/scim/v2/Me"


def principal_of(me: Mapping[str, Any]) -> dict[str, str]:
    """``{"user": name}`` or ``{"service_principal": application_id}`` from a SCIM Me answer."""
    name = str(me.get("userName") or "")
    if not name:
        raise WorkspaceError(
            "the workspace did not say who the caller is (SCIM Me has no userName)",
            hint="permissions keep the deploying identity's CAN_MANAGE, which needs to know it",
        )
    try:
        uuid.UUID(name)
    except ValueError:
        return {"user": name}
    return {"service_principal": name}


class CallerReader(KindReader):
    """Reads the caller when the request asks (``ReadRequest.caller``); folds no kind."""

    def round(self, number: int) -> list[Task]:
        return [self._read] if number == 0 and self.run.request.caller else []

    def _read(self) -> None:
        with translated("the identity running this plan (SCIM Me)"):
            me = self.client.api_client.do("GET", ME)
        assert isinstance(me, dict)
        caller = principal_of(me)
        with self.run.lock:
            self.run.live.caller = caller
