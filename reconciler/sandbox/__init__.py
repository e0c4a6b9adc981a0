"""A local workspace speaking the Databricks REST API over loopback HTTP.

The real databricks-sdk works against it unchanged, so the one Databricks adapter serves real
workspaces and the sandbox alike. See docs/sandbox.md.
"""

import importlib
from typing import TYPE_CHECKING

from reconciler.sandbox.config import Delays, FailRule, Faults, SandboxConfig

if TYPE_CHECKING:
    from reconciler.sandbox.registry import (
        register_version,
        register_versions_up_to,
        set_version_status,
        workspace_client,
    )
from reconciler.sandbox.server import SandboxServer
from reconciler.sandbox.store import reset_state

_LAZY = {
    name: "reconciler.sandbox.registry"
    for name in (
        "register_version",
        "register_versions_up_to",
        "set_version_status",
        "workspace_client",
    )
}

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


def __getattr__(name: str) -> object:
    """Load on first use: these pull in databricks-sdk, which takes seconds to import."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
