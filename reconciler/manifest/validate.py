"""Pydantic validation whose errors point at the file, line and column of the bad value.

A spec validator that knows which field is wrong raises ``FieldError(message, at=(...))``;
the path in ``at`` is appended to the error's ``loc`` so the message points at that field
instead of the whole asset.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from reconciler.manifest.document import PathKey, Positions
from reconciler.model.errors import Location, ManifestError
from reconciler.model.spec import FieldError

M = TypeVar("M", bound=BaseModel)

MAX_REPORTED = 10


def validate_model(model: type[M], value: Any, positions: Positions, *, what: str = "") -> M:
    """Validate ``value`` as ``model`` or raise one ManifestError listing the problems."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise error_from_validation(model, exc, positions, what=what) from None


def error_from_validation(
    model: type[BaseModel], exc: ValidationError, positions: Positions, *, what: str = ""
) -> ManifestError:
    problems: dict[Location, list[str]] = {}
    hints: dict[str, str] = {}
    for err in _pick_union_branch(exc.errors(include_url=False), positions):
        loc, message = describe(model, err, positions)
        messages = problems.setdefault(loc, [])
        if message not in messages:
            messages.append(message)
        original = (err.get("ctx") or {}).get("error")
        if isinstance(original, FieldError) and original.hint:
            hints[message] = original.hint
    ordered = sorted(problems.items(), key=lambda item: (item[0].line, item[0].column))
    (first_loc, first_msgs), rest = ordered[0], ordered[1:]
    text = " or ".join(first_msgs) if len(first_msgs) > 1 else first_msgs[0]
    if what:
        text = f"{what}: {text}"
    for loc, msgs in rest[: MAX_REPORTED - 1]:
        text += f"\n  {loc}: {'; '.join(msgs)}"
    if len(rest) > MAX_REPORTED - 1:
        text += f"\n  ... and {len(rest) - MAX_REPORTED + 1} more"
    hint = hints.get(first_msgs[0]) or _hint(first_msgs[0])
    return ManifestError(text, location=first_loc, hint=hint)


_SCALAR_TAGS = frozenset({"int", "str", "float", "bool", "none"})


def _union_tag(err: ErrorDetails, positions: Positions) -> tuple[PathKey, str] | None:
    """``(path before the tag, tag)`` when the error comes from one branch of a union.

    Pydantic names union branches in ``loc`` (``int``, ``AliasEntry``); such an element is not
    a key of the document.
    """
    loc = tuple(err["loc"])
    for i, part in enumerate(loc):
        if isinstance(part, str) and (*loc[:i], part) not in positions.values:
            if part in _SCALAR_TAGS or part[:1].isupper():
                return loc[:i], part
            return None
    return None


def _pick_union_branch(errors: list[ErrorDetails], positions: Positions) -> list[ErrorDetails]:
    """Of a failed ``int | Model`` union, keep the errors of the branch the value was meant for:
    the model's when a mapping was written, the scalar's otherwise."""
    wrote_mapping: dict[PathKey, bool] = {}
    for err in errors:
        tagged = _union_tag(err, positions)
        if tagged is not None and tagged[1] in _SCALAR_TAGS:
            wrote_mapping[tagged[0]] = isinstance(err.get("input"), dict)
    kept = []
    for err in errors:
        tagged = _union_tag(err, positions)
        if tagged is not None and tagged[0] in wrote_mapping:
            is_scalar_branch = tagged[1] in _SCALAR_TAGS
            if is_scalar_branch == wrote_mapping[tagged[0]]:
                continue
        kept.append(err)
    return kept or errors


def _hint(message: str) -> str | None:
    if message.startswith("unknown field") and "did you mean" not in message:
        return "see docs/manifests.md for the fields of each kind"
    return None


def describe(
    model: type[BaseModel], err: ErrorDetails, positions: Positions
) -> tuple[Location, str]:
    """A readable message for one pydantic error and the location it belongs to."""
    loc: PathKey = tuple(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx") or {}
    original = ctx.get("error")
    if isinstance(original, FieldError):
        loc = (*loc, *original.at)
        return positions.find(loc, key=original.key), str(original)
    if kind == "extra_forbidden":
        field = str(loc[-1]) if loc else "?"
        allowed = allowed_fields(model, loc[:-1])
        message = f"unknown field {field!r}"
        if allowed:
            close = difflib.get_close_matches(field, allowed, n=1)
            if close:
                message += f"; did you mean {close[0]!r}?"
            else:
                message += f" (allowed: {', '.join(allowed)})"
        return positions.find(loc, key=True), message
    if kind == "missing":
        field = str(loc[-1]) if loc else "?"
        return positions.find(loc[:-1]), f"missing required field {field!r}"
    message = _FRIENDLY.get(kind) or err["msg"]
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif kind == "assertion_error":
        message = message.removeprefix("Assertion failed, ")
    field_name = _field_label(loc)
    if field_name and kind != "value_error":
        message = f"{field_name}: {message}"
    return positions.find(loc), message


_FRIENDLY = {
    "dict_type": "expected a mapping (key: value)",
    "model_type": "expected a mapping (key: value)",
    "model_attributes_type": "expected a mapping (key: value)",
    "list_type": "expected a list",
    "string_type": "expected a string (quote numbers and booleans: '1', 'true')",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected an integer, not a fraction",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
}


def _field_label(loc: PathKey) -> str:
    names = [p for p in loc if isinstance(p, str) and not p[:1].isupper() and p != "[key]"]
    return names[-1] if names else ""


def allowed_fields(model: type[BaseModel], loc: PathKey) -> list[str]:
    """Field names (as written in YAML) of the model found at ``loc``, if any."""
    current: Any = model
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    candidates = [c for c in _flatten(current) if isinstance(c, type) and issubclass(c, BaseModel)]
    if len(candidates) != 1:
        return []
    fields = candidates[0].model_fields
    return [f.alias or name for name, f in fields.items()]


def _flatten(tp: Any) -> list[Any]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(tp):
            out.extend(_flatten(arg))
        return out
    return [tp]


def _step(current: Any, part: str | int) -> Any:
    for tp in _flatten(current):
        if tp is type(None):
            continue
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            for name, info in tp.model_fields.items():
                if part in (name, info.alias):
                    return info.annotation
            if part == tp.__name__:
                return tp
        elif origin is list and isinstance(part, int):
            return typing.get_args(tp)[0]
        elif origin is dict and isinstance(part, str):
            return typing.get_args(tp)[1]
    return None
