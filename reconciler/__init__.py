"""GitOps for AI assets on Databricks and any MLflow registry."""

__version__ = "0.1.0"
