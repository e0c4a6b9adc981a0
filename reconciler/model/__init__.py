"""The bottom layer: value types every other layer shares.

Resources (what the manifests declare), changes and plans, live state and the ``Workspace``
port adapters implement, errors, and the spec base. Nothing here imports another layer.
"""
