"""The Databricks adapter (real workspaces and the sandbox alike), through databricks-sdk.

One module per kind (or closely coupled pair) holds its reads, its write handler and its wire
mapping both ways; ``kinds`` registers them; ``workspace`` is the ``Workspace`` they make up.
Generic machinery sits beside them: ``client``, ``concurrency``, ``reading``, ``writing``,
``markers``. Nothing is imported here: the SDK takes seconds to load.
"""
