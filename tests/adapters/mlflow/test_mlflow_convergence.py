"""Property: whatever state the registry is in, apply converges and the next plan is empty."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from mlflow import MlflowClient

from reconciler.adapters.mlflow import MlflowWorkspace
from reconciler.apply import execute
from reconciler.commands.plan import make_plan
from reconciler.manifest import load_project
from reconciler.runtime.result import Outcome

TRAINED, FRESH = "team.trained", "team.fresh"
comments = st.none() | st.sampled_from(["Routes tickets", "Ranks answers"])
tag_maps = st.dictionaries(st.sampled_from(["team", "tier", "cost"]), st.sampled_from(["a", "b"]))
versions = st.integers(min_value=1, max_value=3)
alias_maps = st.dictionaries(st.sampled_from(["champion", "challenger", "shadow"]), versions)
approvals = st.none() | st.sampled_from(["CHG-1", "CHG-2"])


@st.composite
def desired_aliases(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for alias, version in draw(alias_maps).items():
        approval = draw(approvals)
        out[alias] = version if approval is None else {"version": version, "approval": approval}
    return out


def model_entry(name: str, comment: str | None, tags: dict[str, str] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name}
    if comment is not None:
        entry["comment"] = comment
    if tags is not None:
        entry["tags"] = tags
    return entry


@settings(
    max_examples=6,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking a registry takes minutes
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    live_comment=comments,
    live_tags=tag_maps,
    live_aliases=alias_maps,
    comment=comments,
    tags=st.none() | tag_maps,
    aliases=desired_aliases(),
    fresh_tags=st.none() | tag_maps,
)
def test_apply_converges_from_any_registry_state(
    migrated_db: Path,
    live_comment: str | None,
    live_tags: dict[str, str],
    live_aliases: dict[str, int],
    comment: str | None,
    tags: dict[str, str] | None,
    aliases: dict[str, Any],
    fresh_tags: dict[str, str] | None,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copyfile(migrated_db, root / "mlflow.db")
        uri = f"sqlite:///{root / 'mlflow.db'}"
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        client.create_registered_model(TRAINED, tags=live_tags, description=live_comment)
        for i in range(3):
            client.create_model_version(TRAINED, source=f"file:///m/{i}")
        for alias, version in live_aliases.items():
            client.set_registered_model_alias(TRAINED, alias, str(version))

        (root / "reconciler.yaml").write_text(
            "project: prop\ntargets:\n  local: {type: mlflow, tracking_uri: 'sqlite:///mlflow.db'}\n"
        )
        trained = model_entry(TRAINED, comment, tags) | ({"aliases": aliases} if aliases else {})
        manifest = {"registered_models": [trained, model_entry(FRESH, None, fresh_tags)]}
        (root / "manifests").mkdir()
        (root / "manifests" / "models.yaml").write_text(yaml.safe_dump(manifest))

        project = load_project(root)
        workspace = MlflowWorkspace.for_target(project, project.targets["local"])
        first = make_plan(project, "local", workspace=workspace)
        result = execute(first.plan, workspace, first.live)
        assert not result.of(Outcome.FAILED), [r.message for r in result.results]

        again = make_plan(project, "local", workspace=workspace)
        assert again.plan.empty, [c.address for c in again.plan.changes]
        model = client.get_registered_model(TRAINED)
        for alias, entry in aliases.items():
            want = entry if isinstance(entry, int) else entry["version"]
            assert int(model.aliases[alias]) == want
            if isinstance(entry, dict):
                version_tags = client.get_model_version(TRAINED, str(want)).tags
                assert version_tags[f"reconciler.approval.{alias}"] == entry["approval"]
        if tags is not None:
            assert {k: v for k, v in model.tags.items() if not k.startswith("reconciler.")} == tags
        assert client.get_registered_model(FRESH).tags["reconciler.project"] == "prop"
