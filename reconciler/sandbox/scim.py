"""``GET /api/2.0/preview/scim/v2/Me``: who the caller is (the SDK's ``current_user.me()``).

Every caller is the sandbox's one identity (any token works). Like a real workspace, any
authenticated caller may read it, admin or not; its groups say whether it is an admin.
"""

from __future__ import annotations

from reconciler.sandbox.api import Request, Router
from reconciler.sandbox.config import SANDBOX_USER
from reconciler.sandbox.store import Doc

router = Router()
USER_ID = "1000000000000001"


@router.add("GET", "/api/2.0/preview/scim/v2/Me", "current_user.me")
def me(req: Request) -> Doc:
    groups = [{"display": "users", "value": "users", "type": "direct"}]
    if req.config.caller_is_admin:
        groups.append({"display": "admins", "value": "admins", "type": "direct"})
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": USER_ID,
        "userName": SANDBOX_USER,
        "displayName": "Sandbox User",
        "active": True,
        "emails": [{"value": SANDBOX_USER, "type": "work", "primary": True}],
        "groups": groups,
    }
