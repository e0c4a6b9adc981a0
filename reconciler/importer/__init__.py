"""``reconciler import``: manifests written from live assets, so existing assets can be adopted.

``listing`` finds the names, the workspace adapter reads and normalizes them (the same code the
planner uses), ``shape`` turns each live document into a manifest entry with server defaults left
out, and ``writer`` writes one file per kind. Planning against the result is empty.
"""

from reconciler.importer.run import ImportResult, import_assets

__all__ = ["ImportResult", "import_assets"]
