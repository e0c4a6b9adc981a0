"""Import databricks-sdk by the parts the adapters use, not by its package's ``__init__``.

``import databricks.sdk.<anything>`` first runs ``databricks/sdk/__init__.py``, which imports
every service of the SDK (about 50 modules and 2,300 dataclasses) to build
``WorkspaceClient``: about a second of CPU before the first request, most of a ``plan``'s
start-up. ``defer()`` puts the package into ``sys.modules`` without running that file. Its
submodules (``config``, ``core``, ``errors``, ``service.serving``, ...) then import as usual,
and the first name asked of the package itself (``from databricks.sdk import WorkspaceClient``
anywhere in the process, MLflow's included) runs the real ``__init__`` in place: everything
keeps working, and only what is used is paid for. ``reconciler.adapters`` calls it before any
adapter module imports the SDK.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from types import ModuleType
from typing import Any

PACKAGE = "databricks.sdk"
_lock = threading.RLock()


def defer() -> None:
    """Register the package with its ``__init__`` deferred (no-op once it is imported)."""
    with _lock:
        if PACKAGE in sys.modules:
            return
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or spec.loader is None or spec.submodule_search_locations is None:
            return  # not installed as a plain package: import it the usual way
        module = importlib.util.module_from_spec(spec)
        loader = spec.loader
        running = threading.local()

        def complete(name: str) -> Any:
            """A name the package defines itself: run its ``__init__`` now, then answer.

            ``__getattr__`` stays in place while ``__init__`` runs, so a thread asking meanwhile
            comes here and waits on the lock for it instead of finding the name missing; the
            thread running it (a circular import inside ``__init__``) is answered from what is
            defined so far, as Python answers a partly initialised module."""
            if importlib.util.find_spec(f"{PACKAGE}.{name}") is not None:
                return importlib.import_module(f"{PACKAGE}.{name}")
            with _lock:
                if "__getattr__" in module.__dict__ and not getattr(running, "on", False):
                    running.on = True
                    try:
                        loader.exec_module(module)
                        module.__dict__.pop("__getattr__", None)
                    finally:
                        running.on = False
            try:
                return module.__dict__[name]
            except KeyError:
                raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}") from None

        module.__dict__["__getattr__"] = complete
        sys.modules[PACKAGE] = module
        parent = importlib.import_module("databricks")
        parent.__dict__["sdk"] = module


def is_deferred() -> bool:
    """Whether the package's ``__init__`` has not run (yet)."""
    module: ModuleType | None = sys.modules.get(PACKAGE)
    return module is not None and "__getattr__" in module.__dict__
