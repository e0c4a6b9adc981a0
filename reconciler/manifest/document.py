"""Safe YAML loading that remembers where every value was written.

Values are built straight from the parser's event stream (never a Python-recursive composer, so
deep nesting cannot crash the interpreter), with limits that make hostile input fail fast:
a file size cap, a nesting cap, and a budget for what anchors and aliases may expand to
(the "billion laughs" bomb). Keys are always strings, taken from the source text, so
``yes:`` or ``4:`` as a key mean what they look like. Duplicate keys, tabs in indentation,
merge keys, custom tags and non-UTF-8 bytes are errors that name their line and column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml

from reconciler.manifest.inputs import MAX_FILE_BYTES
from reconciler.model.errors import Location, ManifestError

MAX_DEPTH = 64
ALIAS_BUDGET = 10_000
"""How many values all alias uses of one file may expand to, in total."""

PathKey = tuple[str | int, ...]
Interpolate = Callable[[str, Location, str], Any]
"""``(text, location of the scalar, style)`` -> value; style is '' for plain scalars."""
Skip = Callable[[PathKey], bool]
"""Whether the value (or key) at a path is left as written, not interpolated."""

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - pure-Python PyYAML
    _Loader = yaml.SafeLoader

_STR = "tag:yaml.org,2002:str"
_STD_SCALAR_TAGS = {
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_STD_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_TAB_INDENT = re.compile(rb"^[ ]*\t", re.MULTILINE)


@lru_cache(maxsize=8192)
def _resolve(value: str, implicit: tuple[bool, bool]) -> str:
    """The implicit tag of a plain scalar (int, bool, null, str...): values repeat a lot."""
    tag: str = _RESOLVER.resolve(yaml.ScalarNode, value, implicit)  # type: ignore[no-untyped-call]
    return tag


@dataclass
class Positions:
    """Where each value (and each mapping key) of one document was written.

    Paths are tuples of mapping keys and list indexes, as pydantic reports them in ``loc``.
    """

    file: str
    values: dict[PathKey, Location] = field(default_factory=dict)
    keys: dict[PathKey, Location] = field(default_factory=dict)

    def find(self, path: PathKey, *, key: bool = False) -> Location:
        """The location of ``path``, or of its nearest known ancestor.

        Elements that are not in the document (pydantic's union branch names such as ``int``)
        are skipped, so an error ``loc`` can be passed as is. With ``key=True`` the location of
        the mapping key is preferred (for "unknown field" errors).
        """
        known: PathKey = ()
        for part in path:
            candidate = (*known, part)
            if candidate in self.values:
                known = candidate
        if key and known in self.keys:
            return self.keys[known]
        return self.values.get(known) or Location(self.file, 1, 1)

    def under(self, prefix: PathKey) -> dict[str, Location]:
        """Positions below ``prefix`` as dotted relative paths (``""`` is the prefix itself)."""
        n = len(prefix)
        out: dict[str, Location] = {}
        for path, loc in self.values.items():
            if path[:n] == prefix:
                out[".".join(str(p) for p in path[n:])] = loc
        return out


@dataclass
class _Frame:
    value: dict[str, Any] | list[Any]
    path: PathKey
    location: Location
    anchor: str | None
    size: int = 1
    key: str | None = None
    key_location: Location | None = None


def decode(data: bytes, file: str) -> str:
    """UTF-8 text of a file, or an error naming the first bad byte."""
    if len(data) > MAX_FILE_BYTES:
        raise ManifestError(
            f"file is {len(data) / 1024 / 1024:.1f} MB; manifests are limited to"
            f" {MAX_FILE_BYTES // (1024 * 1024)} MB",
            location=Location(file, 1, 1),
            hint="split large manifests into several files matched by the include globs",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise ManifestError(
            f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            location=Location(file, line, column),
            hint="save the file as UTF-8",
        ) from None
    return text.removeprefix("\ufeff")


def _check_tabs(data: bytes, file: str) -> None:
    match = _TAB_INDENT.search(data)
    if match is None:
        return
    line = data.count(b"\n", 0, match.start()) + 1
    column = match.end() - match.start()
    raise ManifestError(
        "tab character in indentation",
        location=Location(file, line, column),
        hint="YAML indents with spaces only; replace the tab with spaces",
    )


def load_yaml(
    data: bytes, file: str, *, interpolate: Interpolate | None = None, skip: Skip | None = None
) -> tuple[Any, Positions]:
    """Parse one YAML document into plain Python values plus their positions.

    An empty file (or one holding only comments) gives ``None``. ``skip`` leaves the values
    under some paths uninterpolated (another target's overrides).
    """
    text = decode(data, file)
    _check_tabs(data, file)
    builder = _Builder(file, interpolate, skip)
    try:
        for event in yaml.parse(text, Loader=_Loader):
            builder.feed(event)
    except yaml.MarkedYAMLError as exc:
        mark: Any = exc.problem_mark or exc.context_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        context: Any = exc.context_mark
        if exc.problem and exc.context and context is not None and context is not mark:
            problem += f" ({exc.context} at line {context.line + 1}, column {context.column + 1})"
        raise ManifestError(f"YAML syntax error: {problem}", location=loc) from None
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        loc = Location(file, before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1)
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1])
        raise ManifestError(
            f"character U+{char:04X} is not allowed in YAML ({exc.reason})", location=loc
        ) from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"YAML error: {exc}", location=Location(file, 1, 1)) from None
    return builder.result, builder.positions


class _Builder:
    """Turns parser events into values; one instance per file."""

    def __init__(self, file: str, interpolate: Interpolate | None, skip: Skip | None) -> None:
        self.file = file
        self.interpolate = interpolate
        self.skip = skip
        self.positions = Positions(file)
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.expanded = 0
        self.documents = 0
        self.result: Any = None

    def _loc(self, event: yaml.Event) -> Location:
        mark: Any = event.start_mark
        return Location(self.file, mark.line + 1, mark.column + 1)

    def _fail(self, message: str, event: yaml.Event, hint: str | None = None) -> ManifestError:
        return ManifestError(message, location=self._loc(event), hint=hint)

    def feed(self, event: yaml.Event) -> None:
        # Most common events first: this loop runs once per scalar of every manifest.
        if isinstance(event, yaml.ScalarEvent):
            self._scalar(event)
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            self._start(event)
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            frame = self.stack.pop()
            if frame.anchor is not None:
                self.anchors[frame.anchor] = (frame.value, frame.size)
            self._attach(frame.value, frame.size, frame.location, event)
        elif isinstance(event, yaml.AliasEvent):
            self._alias(event)
        elif isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise self._fail(
                    "a second YAML document ('---'); one document per file",
                    event,
                    hint="put each document in its own file",
                )

    def _interpolates(self, text: str, path: PathKey) -> bool:
        if self.interpolate is None or "${" not in text:
            return False
        return self.skip is None or not self.skip(path)

    def _path_for_child(self) -> PathKey:
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.value, list):
            return (*top.path, len(top.value))
        assert top.key is not None
        return (*top.path, top.key)

    def _expecting_key(self) -> bool:
        return (
            bool(self.stack)
            and isinstance(self.stack[-1].value, dict)
            and (self.stack[-1].key is None)
        )

    def _start(self, event: yaml.MappingStartEvent | yaml.SequenceStartEvent) -> None:
        if self._expecting_key():
            raise self._fail("a mapping key must be a plain value, not a list or mapping", event)
        if event.tag is not None and not event.implicit and event.tag not in _STD_COLLECTION_TAGS:
            raise self._fail(f"unsupported YAML tag {event.tag!r}", event)
        if len(self.stack) >= MAX_DEPTH:
            raise self._fail(f"nesting deeper than {MAX_DEPTH} levels", event)
        value: dict[str, Any] | list[Any] = {} if isinstance(event, yaml.MappingStartEvent) else []
        self.stack.append(_Frame(value, self._path_for_child(), self._loc(event), event.anchor))

    def _scalar(self, event: yaml.ScalarEvent) -> None:
        loc = self._loc(event)
        if self._expecting_key():
            key = event.value
            if event.style == "" and key == "<<":
                raise self._fail(
                    "YAML merge keys ('<<') are not supported", event, hint="write the keys out"
                )
            if self._interpolates(key, (*self.stack[-1].path, key)):
                assert self.interpolate is not None
                key = str(self.interpolate(key, loc, event.style or ""))
            top = self.stack[-1]
            assert isinstance(top.value, dict)
            if key in top.value:
                first = self.positions.keys[(*top.path, key)]
                raise self._fail(
                    f"duplicate key {key!r} (first written at line {first.line})", event
                )
            top.key = key
            top.key_location = loc
            if event.anchor is not None:
                self.anchors[event.anchor] = (key, 1)
            return
        value = self._scalar_value(event, loc)
        if event.anchor is not None:
            self.anchors[event.anchor] = (value, 1)
        self._attach(value, 1, loc, event)

    def _scalar_value(self, event: yaml.ScalarEvent, loc: Location) -> Any:
        tag = event.tag
        if tag is None:
            tag = _resolve(event.value, event.implicit)
        elif tag == "!":
            tag = _STR
        if tag not in _STD_SCALAR_TAGS and tag != "tag:yaml.org,2002:timestamp":
            raise self._fail(f"unsupported YAML tag {tag!r}", event)
        if tag == _STR:
            if self._interpolates(event.value, self._path_for_child()):
                assert self.interpolate is not None
                return self.interpolate(event.value, loc, event.style or "")
            return event.value
        if tag == "tag:yaml.org,2002:timestamp":
            # Dates stay text: no spec field is a date, and a string reads back as written.
            return event.value
        node = yaml.ScalarNode(tag, event.value, style=event.style)
        try:
            return _CONSTRUCTOR.construct_object(node)
        except (yaml.YAMLError, ValueError) as exc:
            raise self._fail(f"invalid {tag.rsplit(':', 1)[-1]} value: {exc}", event) from None

    def _alias(self, event: yaml.AliasEvent) -> None:
        if self._expecting_key():
            raise self._fail("an alias cannot be a mapping key", event)
        if event.anchor not in self.anchors:
            open_anchors = {f.anchor for f in self.stack}
            why = "refers to itself" if event.anchor in open_anchors else "is not defined above"
            raise self._fail(f"alias *{event.anchor} {why}", event)
        value, size = self.anchors[event.anchor]
        self.expanded += size
        if self.expanded > ALIAS_BUDGET:
            raise self._fail(
                f"anchors and aliases expand to more than {ALIAS_BUDGET} values",
                event,
                hint="this looks like a YAML alias bomb; write the values out instead",
            )
        self._attach(value, size, self._loc(event), event)

    def _attach(self, value: Any, size: int, loc: Location, event: yaml.Event) -> None:
        if not self.stack:
            self.result = value
            self.positions.values[()] = loc
            return
        top = self.stack[-1]
        top.size += size
        if isinstance(top.value, list):
            path = (*top.path, len(top.value))
            top.value.append(value)
        else:
            assert top.key is not None and top.key_location is not None
            path = (*top.path, top.key)
            top.value[top.key] = value
            self.positions.keys[path] = top.key_location
            top.key = None
        self.positions.values[path] = loc
