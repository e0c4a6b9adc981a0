"""``reconciler import``: manifests written from live assets, so existing assets can be adopted.

The workspace adapter lists the names and reads and normalizes the assets (the same code the
planner uses), each kind's rules turn a live document into a manifest entry with server defaults
left out (``KindRules.import_entry``), and ``writer`` writes one file per kind. Planning against
the result is empty.
"""

from reconciler.importer.run import ImportResult, import_assets

__all__ = ["ImportResult", "import_assets"]
