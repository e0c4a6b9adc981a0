"""Provisioned throughput: a model version's optimization info, and the check a config with
throughput bounds passes before the service accepts it.

``GET /api/2.0/serving-endpoints/get-model-optimization-info/{name}/{version}`` answers
``{"optimizable": true, "throughput_chunk_size": N}`` for the ``system.ai`` foundation models
(``foundation.SYSTEM_AI_MODELS``) and ``{"optimizable": false}`` for other models; a model or
version that does not exist is a 404. Throughput bounds must be multiples of the chunk size.
"""

from __future__ import annotations

from reconciler.sandbox.api import Request, Router, invalid, not_found
from reconciler.sandbox.store import Doc, Tx
from reconciler.sandbox.unity_catalog import MODELS, VERSIONS, version_key

router = Router()
THROUGHPUT = ("min_provisioned_throughput", "max_provisioned_throughput")


def optimization_info(tx: Tx, full_name: str, version: object) -> Doc | None:
    """What the route answers, or None when the model version does not exist."""
    model = tx.get(MODELS, full_name.lower())
    try:
        number = int(str(version))
    except ValueError:
        return None
    if model is None or tx.get(VERSIONS, version_key(full_name, number)) is None:
        return None
    chunk = model.get("_throughput_chunk_size")
    if not chunk:
        return {"optimizable": False}
    return {"optimizable": True, "throughput_chunk_size": int(chunk)}


@router.add(
    "GET",
    "/api/2.0/serving-endpoints/get-model-optimization-info/{name}/{version}",
    "serving_endpoints.get_model_optimization_info",
)
def get_info(req: Request) -> Doc:
    info = optimization_info(req.tx, req.params["name"], req.params["version"])
    if info is None:
        raise not_found(
            f"Model version {req.params['name']} version {req.params['version']} does not exist."
        )
    return info


def check_throughput(tx: Tx, config: Doc) -> None:
    """400 for a served entity whose throughput bounds its model cannot take."""
    for entity in config.get("served_entities", []):
        bounds = {f: entity[f] for f in THROUGHPUT if entity.get(f) is not None}
        if not bounds:
            continue
        model, version = entity.get("entity_name"), entity.get("entity_version")
        info = optimization_info(tx, str(model), version) or {}
        if not info.get("optimizable"):
            raise invalid(
                f"Served entity {entity['name']}: model {model} version {version} is not"
                " eligible for provisioned throughput."
            )
        chunk = int(info["throughput_chunk_size"])
        for field, value in bounds.items():
            if int(value) % chunk:
                raise invalid(
                    f"Served entity {entity['name']}: {field} {value} must be a multiple of"
                    f" the throughput chunk size {chunk}."
                )
