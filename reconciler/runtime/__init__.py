"""What a running command needs beside the value types: the per-change context of an apply, the
retry policy and waits the adapters' writes go through, apply settings and results, logging.

Adapters import this layer, never the apply engine. Nothing is imported here on purpose:
``retry`` loads databricks-sdk, which ``--help`` and ``validate`` must not pay for.
"""
