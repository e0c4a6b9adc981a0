"""Shared fixtures live in tests/fixtures/, one module per area."""

import os

pytest_plugins = ["fixtures.sandbox", "fixtures.project"]

# Tests never talk to a real workspace: drop any ambient Databricks configuration.
for _var in [v for v in os.environ if v.startswith("DATABRICKS_")]:
    del os.environ[_var]
