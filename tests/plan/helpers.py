"""Building desired and live state for planner tests: real manifests, raw API dicts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from reconciler.adapters.databricks.kinds import normalize, unmodelled
from reconciler.manifest import load_desired_state, load_project
from reconciler.model.changes import Plan
from reconciler.model.live import LiveAsset, LiveState, VersionInfo
from reconciler.model.resources import DesiredState, KindName, address_of
from reconciler.plan.planner import build_plan
from reconciler.project import Target

PROJECT = "proj"


def desired_state(
    root: Path, manifests: Mapping[str, Any], target: Mapping[str, Any] | None = None
) -> tuple[DesiredState, Target]:
    root.mkdir(parents=True, exist_ok=True)
    project_doc = {
        "project": PROJECT,
        "include": ["manifests/*.yaml"],
        "default_target": "t",
        "targets": {"t": {"type": "sandbox", **(target or {})}},
    }
    (root / "reconciler.yaml").write_text(yaml.safe_dump(project_doc))
    (root / "manifests").mkdir(exist_ok=True)
    (root / "manifests" / "main.yaml").write_text(yaml.safe_dump(dict(manifests), sort_keys=False))
    project = load_project(root)
    return load_desired_state(project, "t"), project.targets["t"]


def live_asset(
    kind: KindName, name: str, raw: Mapping[str, Any], owner: str | None = PROJECT
) -> LiveAsset:
    doc, extra = normalize(kind, raw), tuple(unmodelled(kind, raw))
    return LiveAsset(kind=kind, name=name, doc=doc, raw=raw, owner=owner, unmodelled=extra)


def live_state(
    *assets: LiveAsset, versions: Mapping[tuple[str, int], str] | None = None
) -> LiveState:
    state = LiveState(assets={a.address: a for a in assets})
    for (model, version), status in (versions or {}).items():
        state.versions[(model, version)] = VersionInfo(model, version, status)
    return state


def ready(model: str, *versions: int) -> dict[tuple[str, int], str]:
    return {(model, v): "READY" for v in versions}


def plan_of(
    root: Path,
    manifests: Mapping[str, Any],
    *assets: LiveAsset,
    versions: Mapping[tuple[str, int], str] | None = None,
    target: Mapping[str, Any] | None = None,
) -> Plan:
    desired, tgt = desired_state(root, manifests, target)
    return build_plan(desired, live_state(*assets, versions=versions), tgt)


def addr(kind: KindName, name: str) -> str:
    return address_of(kind, name)


MODEL = "main.sch.clf"


def endpoint_raw(**overrides: Any) -> dict[str, Any]:
    """A ServingEndpointDetailed as GET returns it for one served entity, defaults filled."""
    raw: dict[str, Any] = {
        "name": "ep",
        "id": "abc123",
        "creator": "someone@example.com",
        "creation_timestamp": 1700000000,
        "state": {"ready": "READY", "config_update": "NOT_UPDATING"},
        "route_optimized": False,
        "config": {
            "config_version": 1,
            "served_entities": [
                {
                    "name": "champion",
                    "entity_name": MODEL,
                    "entity_version": "2",
                    "workload_size": "Small",
                    "workload_type": "CPU",
                    "scale_to_zero_enabled": True,
                    "state": {"deployment": "DEPLOYMENT_READY"},
                    "creator": "someone@example.com",
                }
            ],
            "traffic_config": {
                "routes": [
                    {
                        "served_entity_name": "champion",
                        "served_model_name": "champion",
                        "traffic_percentage": 100,
                    }
                ]
            },
        },
        "tags": [{"key": "team", "value": "ml"}],
    }
    raw.update(overrides)
    return raw


def endpoint_manifest(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "ep",
        "served_entities": [
            {
                "name": "champion",
                "entity": f"{MODEL}@champion",
                "workload_size": "Small",
                "scale_to_zero": True,
            }
        ],
        "tags": {"team": "ml"},
    }
    doc.update(overrides)
    return doc


def model_manifest(**aliases: int) -> dict[str, Any]:
    return {"name": MODEL, "aliases": dict(aliases)}


def model_raw(aliases: Mapping[str, int | str], **extra: Any) -> dict[str, Any]:
    catalog, schema, name = MODEL.split(".")
    return {
        "full_name": MODEL,
        "catalog_name": catalog,
        "schema_name": schema,
        "name": name,
        "owner": "someone@example.com",
        "created_at": 1700000000000,
        "aliases": [{"alias_name": a, "version_num": v} for a, v in aliases.items()],
        **extra,
    }


def alias_asset(alias: str, version: int | str, owner: str | None = PROJECT) -> LiveAsset:
    raw = {"model": MODEL, "alias_name": alias, "version_num": version}
    return live_asset(KindName.MODEL_ALIAS, f"{MODEL}@{alias}", raw, owner)
