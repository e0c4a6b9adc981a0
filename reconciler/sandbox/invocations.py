"""Queries: ``POST /serving-endpoints/{name}/invocations`` (no ``/api/2.0`` prefix).

No model runs; answers only have the shape of the endpoint's task (chat, completions,
embeddings, or ``predictions`` for custom models). What is real is the AI Gateway's rate
limits, so quotas can be seen working: calls and tokens per minute for the ``endpoint`` key and
for the caller (``user`` limits without a principal, or naming the sandbox user). Over a limit the
query gets 429 REQUEST_LIMIT_EXCEEDED, as a real endpoint answers. Counters live in the store,
per calendar minute.
"""

from __future__ import annotations

import hashlib
import json
import time

from reconciler.sandbox import serving_state
from reconciler.sandbox.api import ApiError, RawReply, Request, Router, invalid_state
from reconciler.sandbox.config import SANDBOX_USER
from reconciler.sandbox.store import Doc

COUNTERS = "rate_limit_counters"
EMBEDDING_DIMENSION = 1024
COMPLETION_TOKENS = 8
router = Router()


def _applies(limit: Doc) -> bool:
    key = limit.get("key", "endpoint")
    if key == "endpoint":
        return True
    return key == "user" and limit.get("principal") in (None, SANDBOX_USER)


def _tokens_in(body: Doc) -> int:
    return max(1, len(json.dumps(body)) // 4)


def _enforce(req: Request, doc: Doc, tokens: int) -> None:
    limits = [lim for lim in (doc.get("ai_gateway") or {}).get("rate_limits", []) if _applies(lim)]
    if not limits:
        return
    minute = int(req.now // 60)
    key = f"{doc['name']}/{minute}"
    used = req.tx.get(COUNTERS, key) or {"calls": 0, "tokens": 0}
    for stale, _ in req.tx.scan(COUNTERS, prefix=doc["name"] + "/"):
        if stale != key:
            req.tx.delete(COUNTERS, stale)
    for limit in limits:
        over_calls = limit.get("calls") is not None and used["calls"] + 1 > limit["calls"]
        over_tokens = limit.get("tokens") is not None and used["tokens"] + tokens > limit["tokens"]
        if over_calls or over_tokens:
            what = "calls" if over_calls else "tokens"
            raise ApiError(
                429,
                "REQUEST_LIMIT_EXCEEDED",
                f"The {limit.get('key', 'endpoint')} rate limit of endpoint {doc['name']}"
                f" ({limit.get(what)} {what} per minute) is exceeded.",
                headers={"Retry-After": str(int(req.config.faults.retry_after))},
            )
    req.tx.put(COUNTERS, key, {"calls": used["calls"] + 1, "tokens": used["tokens"] + tokens})


def _pick(req: Request, doc: Doc) -> str:
    """The served entity this call goes to, following the traffic split."""
    routes = doc["config"].get("traffic_config", {}).get("routes", [])
    if not routes:
        return str(doc["config"]["served_entities"][0]["name"])
    ticket = req.tx.next_id(f"invocations/{doc['name']}") % 100
    total = 0
    for route in routes:
        total += int(route["traffic_percentage"])
        if ticket < total:
            return str(route["served_entity_name"])
    return str(routes[-1]["served_entity_name"])


def _embedding(text: str) -> list[float]:
    seed = hashlib.sha256(text.encode()).digest()
    return [round((seed[i % len(seed)] - 127.5) / 127.5, 4) for i in range(EMBEDDING_DIMENSION)]


def _answer(req: Request, doc: Doc, served: str, tokens: int) -> Doc:
    task = doc.get("task")
    usage = {
        "prompt_tokens": tokens,
        "completion_tokens": COMPLETION_TOKENS,
        "total_tokens": tokens + COMPLETION_TOKENS,
    }
    base: Doc = {"id": f"sandbox-{int(time.time() * 1000)}", "created": int(req.now)}
    text = f"(sandbox) {served} answered."
    if task == "llm/v1/chat":
        message = {"role": "assistant", "content": text}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return {**base, "object": "chat.completion", "model": served, "choices": [choice],
                "usage": usage}  # fmt: skip
    if task == "llm/v1/completions":
        choice = {"index": 0, "text": text, "finish_reason": "stop"}
        return {**base, "object": "text_completion", "model": served, "choices": [choice],
                "usage": usage}  # fmt: skip
    if task == "llm/v1/embeddings":
        inputs = req.body.get("input", "")
        texts = inputs if isinstance(inputs, list) else [inputs]
        data = [
            {"object": "embedding", "index": i, "embedding": _embedding(str(t))}
            for i, t in enumerate(texts)
        ]
        return {"object": "list", "model": served, "data": data, "usage": usage}
    records = (
        req.body.get("dataframe_records")
        or (req.body.get("dataframe_split") or {}).get("data")
        or req.body.get("instances")
        or req.body.get("inputs")
        or [None]
    )
    count = len(records) if isinstance(records, list) else 1
    return {"predictions": [0.0] * count}


@router.add("POST", "/serving-endpoints/{name}/invocations", "serving_endpoints.query")
def query(req: Request) -> RawReply:
    doc = serving_state.load(req, req.params["name"])
    if doc.get("_ready_at") is None or req.now < doc["_ready_at"] or "config" not in doc:
        raise invalid_state(f"Endpoint {doc['name']} is not ready to serve queries.")
    tokens = _tokens_in(req.body)
    _enforce(req, doc, tokens)
    served = _pick(req, doc)
    body = json.dumps(_answer(req, doc, served, tokens)).encode()
    return RawReply(body, "application/json", {"served-model-name": served})
