"""A local workspace speaking the Databricks REST API over loopback HTTP.

The real databricks-sdk works against it unchanged, so the one Databricks adapter serves real
workspaces and the sandbox alike. See docs/sandbox.md.
"""

from reconciler.sandbox.config import Delays, FailRule, Faults, SandboxConfig
from reconciler.sandbox.registry import (
    register_version,
    register_versions_up_to,
    set_version_status,
    workspace_client,
)
from reconciler.sandbox.server import SandboxServer
from reconciler.sandbox.store import reset_state

__all__ = [
    "Delays",
    "FailRule",
    "Faults",
    "SandboxConfig",
    "SandboxServer",
    "register_version",
    "register_versions_up_to",
    "reset_state",
    "set_version_status",
    "workspace_client",
]
