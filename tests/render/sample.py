"""A plan holding every action, a destructive change, a secret and unhealthy assets, for the
golden tests."""

from __future__ import annotations

from reconciler.model.changes import Action, Change, FieldDiff, Plan, summarize
from reconciler.model.digest import ManifestDigest
from reconciler.model.health import AssetHealth, HealthStatus

M = "main.support.intent_classifier"


def sample_plan() -> Plan:
    changes = (
        Change(
            address=f"model_alias.{M}@champion",
            kind="model_alias",
            name=f"{M}@champion",
            action=Action.UPDATE,
            diffs=(FieldDiff(path="version", before=3, after=4),),
            depends_on=(f"registered_model.{M}",),
        ),
        Change(
            address="vector_search_endpoint.docs-vs",
            kind="vector_search_endpoint",
            name="docs-vs",
            action=Action.CREATE,
            diffs=(
                FieldDiff(path="name", after="docs-vs"),
                FieldDiff(path="type", after="STANDARD"),
                FieldDiff(path="tags", after={"team": "support"}),
            ),
        ),
        Change(
            address="vector_index.main.support.docs_index",
            kind="vector_index",
            name="main.support.docs_index",
            action=Action.REPLACE,
            diffs=(
                FieldDiff(
                    path="delta_sync.source_table",
                    before="main.support.docs",
                    after="main.support.docs_v2",
                ),
            ),
            depends_on=("vector_search_endpoint.docs-vs",),
            reason="delta_sync cannot change in place: index is deleted and rebuilt",
        ),
        Change(
            address="serving_endpoint.support-intent",
            kind="serving_endpoint",
            name="support-intent",
            action=Action.UPDATE,
            diffs=(
                FieldDiff(path="served_entities.champion.version", before=3, after=4),
                FieldDiff(
                    path="served_entities.champion.environment_vars",
                    before=None,
                    after={"API_KEY": "{{secrets/support/api_key}}"},
                ),
                FieldDiff(path="traffic.champion", before=80, after=90),
                FieldDiff(path="tags.team", before="ml", after=None),
            ),
            depends_on=(f"model_alias.{M}@champion",),
            carried=(
                "served_entities.challenger.environment_vars",
                "served_entities.champion.instance_profile_arn",
            ),
        ),
        Change(
            address="quota.databricks-meta-llama-3-3-70b-instruct",
            kind="quota",
            name="databricks-meta-llama-3-3-70b-instruct",
            action=Action.ADOPT,
            diffs=(
                FieldDiff(path="rate_limits.endpoint.calls_per_minute", before=100, after=1000),
            ),
        ),
        Change(
            address="registered_model.main.support.old_model",
            kind="registered_model",
            name="main.support.old_model",
            action=Action.DELETE,
            diffs=(FieldDiff(path="name", before="main.support.old_model"),),
            reason="deletes registered model main.support.old_model with ALL its versions",
        ),
    )
    return Plan(
        project="support-assistant",
        target="prod",
        changes=changes,
        summary=summarize(changes),
        fingerprint="0" * 64,
        manifests=ManifestDigest.of_bytes(
            {"reconciler.yaml": b"project: support-assistant\n", "manifests/models.yaml": b"{}\n"}
        ),
        health=(
            AssetHealth(
                address="serving_endpoint.support-intent",
                kind="serving_endpoint",
                name="support-intent",
                status=HealthStatus.DEGRADED,
                message="config update ended UPDATE_FAILED: champion: DEPLOYMENT_FAILED"
                " (Model version 4 is FAILED_REGISTRATION, not READY.)",
            ),
            AssetHealth(
                address="vector_index.main.support.docs_index",
                kind="vector_index",
                name="main.support.docs_index",
                status=HealthStatus.PROGRESSING,
                message="PROVISIONING_INITIAL_SNAPSHOT: Index creation is pending.",
            ),
        ),
    )
