"""Shared fixtures live in tests/fixtures/, one module per area."""

import os

pytest_plugins = ["fixtures.sandbox", "fixtures.project"]

# Tests never talk to a real workspace: drop any ambient Databricks configuration (and an
# allowlist of real hosts, which would refuse the loopback targets of the tests).
for _var in [
    v for v in os.environ if v.startswith("DATABRICKS_") or v == "RECONCILER_ALLOWED_HOSTS"
]:
    del os.environ[_var]
