"""Plan files (``plan -o plan.json``): the plan JSON contract plus what apply needs.

Beyond the contract (format_version, target, changes, summary, health) a saved plan records the
project, each change's reason and desired document, the fingerprint of the live state and the
digest of the manifests it was computed from, so ``apply PLAN_FILE`` can refuse any plan that is
not exactly what planning gives now (``reconciler.plan.exact``). Diffs are already redacted by
the planner. Desired documents are written sealed: every ``{{secrets/...}}`` reference becomes
a salted-hash marker (``reconciler.plan.sealed``). So no plan file names a secret.

Reading one is defensive, since anyone can hand apply a file: only a regular file, at most
``MAX_BYTES``, UTF-8 JSON without ``NaN``, nested at most ``MAX_DEPTH`` deep, of this
``format_version``, of the plan's shape; anything else is a PlanError (exit 1), never a
traceback or a hang.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reconciler.manifest.inputs import (
    NotRegular,
    NotWritable,
    TooLarge,
    read_regular_file,
    write_atomically,
)
from reconciler.model.changes import FORMAT_VERSION, Plan
from reconciler.model.errors import PlanError
from reconciler.plan.sealed import seal

MAX_BYTES = 64 * 1024 * 1024
"""A plan creating 5,000 assets saves to about 4 MB, one of 20,000 to 16 MB
(``benchmarks/plan_file_size.py``)."""
MAX_DEPTH = 64
"""Containers nested in a plan file; a plan's own documents nest 8 deep (same benchmark)."""
HINT = "pass a file written by 'reconciler plan -o'"


def to_dict(plan: Plan) -> dict[str, Any]:
    """The saved form: secret references in desired documents sealed."""
    return seal(plan).model_dump(mode="json")


def dumps(plan: Plan) -> str:
    return json.dumps(to_dict(plan), indent=2) + "\n"


def save(plan: Plan, path: Path | str) -> Path:
    """Write the plan to ``path`` whole or not at all (``write_atomically``: a FIFO, device or
    directory there is refused and left as it is, a symlink is kept); a failure is a
    PlanError (exit 1), never a traceback."""
    target = Path(path)
    try:
        write_atomically(target, dumps(plan))
    except NotWritable as exc:
        raise PlanError(
            f"cannot save the plan to {target}: {exc.reason}",
            hint="pass a file path to -o (the plan is saved as JSON)",
        ) from None
    return target


def loads(text: str, *, source: str = "plan") -> Plan:
    if len(text) > MAX_BYTES:
        raise PlanError(f"{source} is larger than {_mib(MAX_BYTES)}; {_NOT_A_PLAN}", hint=HINT)
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise PlanError(
            f"{source} is not JSON (line {exc.lineno} column {exc.colno}): {exc.msg}", hint=HINT
        ) from None
    except RecursionError:
        raise PlanError(
            f"{source} nests more than {MAX_DEPTH} levels deep; {_NOT_A_PLAN}", hint=HINT
        ) from None
    except ValueError as exc:
        raise PlanError(f"{source} is not JSON: {exc}", hint=HINT) from None
    if depth(data) > MAX_DEPTH:
        raise PlanError(
            f"{source} nests more than {MAX_DEPTH} levels deep; {_NOT_A_PLAN}", hint=HINT
        )
    if not isinstance(data, dict) or "changes" not in data or "target" not in data:
        raise PlanError(f"{source} is not a reconciler plan", hint=HINT)
    version = str(data.get("format_version", ""))
    if version != FORMAT_VERSION:
        raise PlanError(
            f"{source} has plan format {version!r}; this reconciler reads {FORMAT_VERSION!r}",
            hint="run 'reconciler plan -o' again with this version",
        )
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PlanError(f"{source}: invalid plan at {where}: {first['msg']}", hint=HINT) from None


_NOT_A_PLAN = "'reconciler plan -o' does not write such files"


def _mib(size: int) -> str:
    return f"{size // (1024 * 1024)} MiB"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def depth(value: Any) -> int:
    """How many containers are nested in ``value`` at its deepest (without recursion, and
    stopping as soon as it passes ``MAX_DEPTH``)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if not isinstance(item, dict | list):
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, level + 1) for child in children)
    return deepest


def read_bounded(path: Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (the loader's bounded reader: a
    FIFO or a device is refused without blocking on it, a larger file without reading it)."""
    try:
        return read_regular_file(path, limit)
    except NotRegular as exc:
        what = exc.kind if exc.kind == "not a regular file" else f"{exc.kind}, not a regular file"
        raise PlanError(f"plan file {path} is {what}", hint=HINT) from None
    except TooLarge:
        raise PlanError(f"{path} is larger than {_mib(limit)}; {_NOT_A_PLAN}", hint=HINT) from None
    except OSError as exc:
        raise PlanError(f"cannot read plan file {path}: {exc.strerror or exc}") from None


def load(path: Path | str) -> Plan:
    target = Path(path)
    data = read_bounded(target)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlanError(
            f"{target} is not UTF-8 text (byte {exc.start}); {_NOT_A_PLAN}", hint=HINT
        ) from None
    return loads(text, source=str(target))
