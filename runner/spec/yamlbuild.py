"""Plain values from a YAML event stream, with the position of every value, within limits.

PyYAML's composer and constructors recurse (a deeply nested file crashed the C loader), copy
aliases without bound (a "billion laughs" file hung while memory grew), and drop or construct
tags a spec never means (`!!python/...`). Reading the parser's events instead builds values
without recursion, counts what aliases and merge keys copy, refuses unknown tags and scalars
that do not construct, and names the line of each problem. The limits are in the README.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from runner.errors import SpecIssue
from runner.spec.yamlplaces import (
    Path_,
    Places,
    copy_value,
    format_path,
    move_places,
    place_all,
    walk,
)
from runner.spec.yamlscalars import MAP, MERGE, SEQ, STR, Scalars, unsupported

MAX_DEPTH = 100  # far below the interpreter's recursion limit, which later walks still use
MAX_VALUES = 200_000  # values written in one file (bytes alone do not bound it: `[1,1,...]`)
MAX_COPIED = 100_000  # values that aliases and merge keys may copy in one file

_EXPECT_KEY, _DISCARD = object(), object()  # a mapping's state besides "the value of key k"


class Refused(Exception):
    """A problem after which the rest of the file cannot be read safely."""

    def __init__(self, issue: SpecIssue):
        super().__init__(issue.message)
        self.issue = issue


@dataclass
class Built:
    """One document: its value and where each value and mapping key starts."""

    index: int
    value: Any = None
    positions: Places = field(default_factory=dict)
    key_positions: Places = field(default_factory=dict)
    merged: bool = False


@dataclass(slots=True)
class _Frame:
    value: Any  # dict or list
    is_map: bool
    path: Path_
    positions: Places
    key_positions: Places
    anchor: str | None
    line: int
    col: int
    key: Any = _EXPECT_KEY
    first_line: dict[str, int] = field(default_factory=dict)
    size: int = 1
    height: int = 1
    merge: bool = False


@dataclass(frozen=True)
class _Anchor:
    value: Any
    size: int
    height: int


class Builder:
    """Turns the events of one YAML stream into `Built` documents and issues."""

    def __init__(self, file: str):
        self.file = file
        self.docs: list[Built] = []
        self.issues: list[SpecIssue] = []
        self.stack: list[_Frame] = []
        self.anchors: dict[str, _Anchor] = {}
        self.copied = 0
        self.values = 0
        self.scalars = Scalars()

    def run(self, parser: Any) -> None:
        """Read every event of `parser` (a PyYAML loader); stop at the first problem that makes
        the rest unsafe to read."""
        handlers: dict[type, Callable[[Any], None]] = {
            yaml.ScalarEvent: self._scalar, yaml.AliasEvent: self._alias,
            yaml.SequenceStartEvent: self._start, yaml.MappingStartEvent: self._start,
            yaml.SequenceEndEvent: self._end, yaml.MappingEndEvent: self._end,
            yaml.DocumentStartEvent: self._document, yaml.DocumentEndEvent: self._finish}
        try:
            event = parser.get_event()
            while not isinstance(event, yaml.StreamEndEvent):
                handler = handlers.get(type(event))
                if handler is not None:
                    handler(event)
                event = parser.get_event()
        except Refused as exc:
            self.issues.append(exc.issue)
            self.docs = []  # what was read so far is incomplete: nothing of it is checked further

    def issue(self, line: int, col: int, path: Path_, message: str) -> SpecIssue:
        found = SpecIssue(self.file, line, col, format_path(path), message)
        self.issues.append(found)
        return found

    def refuse(self, event: yaml.Event, path: Path_, message: str) -> Refused:
        line, col = place(event)
        shown = format_path(path[:6]) + ("..." if len(path) > 6 else "")  # deep paths are long
        return Refused(SpecIssue(self.file, line, col, shown, message))

    # documents

    def _document(self, event: yaml.Event) -> None:
        self.docs.append(Built(index=len(self.docs)))
        self.anchors = {}  # anchors belong to their document

    def _finish(self, event: yaml.Event) -> None:
        doc = self.docs[-1]
        if doc.merged:  # merged keys moved: put the places back in the order of the value
            value_paths, key_paths = walk(doc.value)
            doc.positions = {p: doc.positions[p] for p in value_paths if p in doc.positions}
            doc.key_positions = {p: doc.key_positions[p] for p in key_paths
                                 if p in doc.key_positions}

    # where the next value goes

    def _slot(self) -> tuple[Path_, Places, Places]:
        if not self.stack:
            doc = self.docs[-1]
            return (), doc.positions, doc.key_positions
        top = self.stack[-1]
        if not top.is_map:
            return top.path + (len(top.value),), top.positions, top.key_positions
        if top.key is _EXPECT_KEY or top.key is _DISCARD:  # read, then thrown away
            return top.path + ("?",), {}, {}
        return top.path + (top.key,), top.positions, top.key_positions

    def _is_key(self) -> bool:
        return bool(self.stack) and self.stack[-1].is_map and self.stack[-1].key is _EXPECT_KEY

    def _attach(self, value: Any, size: int, height: int, line: int, col: int) -> None:
        if not self.stack:
            self.docs[-1].value = value
            return
        top = self.stack[-1]
        top.size += size
        top.height = max(top.height, height + 1)
        if not top.is_map:
            top.value.append(value)
        elif top.key is _EXPECT_KEY:  # a list or mapping used as a key
            self.issue(line, col, top.path, "mapping keys must be plain strings")
            top.key = _DISCARD
        else:
            if top.key is not _DISCARD:
                top.value[top.key] = value
            top.key = _EXPECT_KEY

    # scalars and keys

    def _scalar(self, event: yaml.ScalarEvent) -> None:
        # the most frequent event: the common cases (a key, a quoted or plain value in a
        # mapping) are written out here rather than through _is_key, _slot and _attach
        mark = event.start_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        top = self.stack[-1] if self.stack else None
        if top is not None and top.is_map and top.key is _EXPECT_KEY:
            self._key(event, line, col)
            return
        path, positions, _ = self._slot()
        positions[path] = (line, col)
        self._written(event, path)
        if event.tag is None and not event.implicit[0]:
            value: Any = event.value  # quoted: text
        else:
            value, problem = self.scalars.read(event.value, event.tag, event.implicit)
            if problem:
                self.issue(line, col, path, problem)
        if event.anchor:
            self.anchors[event.anchor] = _Anchor(value, 1, 0)
        if top is not None and top.is_map and top.key is not _DISCARD:
            top.value[top.key] = value
            top.key = _EXPECT_KEY
            top.size += 1
            return
        self._attach(value, 1, 0, line, col)

    def _written(self, event: yaml.Event, path: Path_) -> None:
        self.values += 1
        if self.values > MAX_VALUES:
            raise self.refuse(event, path, f"the file holds more than {MAX_VALUES} values, the "
                              "limit for one spec file; split it into several files")

    def _key(self, event: yaml.ScalarEvent, line: int, col: int) -> None:
        top = self.stack[-1]
        tag = self.scalars.tag(event.value, event.tag, event.implicit)
        if event.tag not in (None, "!", STR):
            self.issue(line, col, top.path + (event.value,), unsupported(tag))
        key = event.value
        if key in top.first_line:
            self.issue(line, col, top.path + (key,), f"duplicate key {key!r} (first defined at "
                       f"line {top.first_line[key]})")
            top.key = _DISCARD
            return
        top.first_line[key] = line
        top.merge = top.merge or tag == MERGE
        top.key_positions[top.path + (key,)] = (line, col)
        top.key = key

    # collections

    def _start(self, event: yaml.CollectionStartEvent) -> None:
        path, positions, key_positions = self._slot()
        if len(self.stack) >= MAX_DEPTH:
            raise self.refuse(event, path, f"nested deeper than {MAX_DEPTH} levels")
        self._written(event, path)
        line, col = place(event)
        positions[path] = (line, col)
        is_map = isinstance(event, yaml.MappingStartEvent)
        if event.tag not in (None, "!", MAP if is_map else SEQ):
            self.issue(line, col, path, unsupported(event.tag))
        self.stack.append(_Frame({} if is_map else [], is_map, path, positions, key_positions,
                                 event.anchor, line, col))

    def _end(self, event: yaml.Event) -> None:
        frame = self.stack.pop()
        if frame.merge:
            self._merge(frame, event)
        if frame.anchor:
            self.anchors[frame.anchor] = _Anchor(frame.value, frame.size, frame.height)
        self._attach(frame.value, frame.size, frame.height, frame.line, frame.col)

    # anchors, aliases, merge keys

    def _alias(self, event: yaml.AliasEvent) -> None:
        line, col = place(event)
        name = event.anchor or ""
        path, positions, key_positions = self._slot()
        if any(frame.anchor == name for frame in self.stack):
            raise self.refuse(event, path, f"alias *{name} is used inside its own anchor "
                              f"&{name}: the value would contain itself")
        anchor = self.anchors.get(name)
        if anchor is None:
            self.issue(line, col, path, f"unknown alias *{name}: an anchor &{name} must come "
                       "before it, in the same document")
            anchor = _Anchor(None, 1, 0)
        if self._is_key():
            self._alias_key(anchor, line, col)
            return
        if len(self.stack) + anchor.height > MAX_DEPTH:
            raise self.refuse(event, path, f"alias *{name} makes the value nested deeper than "
                              f"{MAX_DEPTH} levels")
        self._count(event, path, anchor.size, f"alias *{name}")
        value = copy_value(anchor.value)
        place_all(value, path, (line, col), positions, key_positions)
        self._attach(value, anchor.size, anchor.height, line, col)

    def _alias_key(self, anchor: _Anchor, line: int, col: int) -> None:
        top = self.stack[-1]
        if not isinstance(anchor.value, str):
            self.issue(line, col, top.path, "mapping keys must be plain strings")
            top.key = _DISCARD
            return
        event = yaml.ScalarEvent(None, None, (False, True), anchor.value)
        self._key(event, line, col)

    def _count(self, event: yaml.Event, path: Path_, size: int, what: str) -> None:
        self.copied += size
        if self.copied > MAX_COPIED:
            raise self.refuse(event, path, f"{what} takes the values copied by aliases and "
                              f"merge keys in this file past the limit of {MAX_COPIED}")

    def _merge(self, frame: _Frame, event: yaml.Event) -> None:
        """`<<: *base` (or a list of them): the merged mappings' keys come first, keys written
        here win, and among merged mappings the first one wins (YAML's merge key)."""
        source_path = frame.path + ("<<",)
        source = frame.value.pop("<<")
        sources = [source] if isinstance(source, dict) else source
        if not isinstance(sources, list) or not all(isinstance(s, dict) for s in sources):
            line, col = frame.positions.get(source_path, (frame.line, frame.col))
            self.issue(line, col, source_path, "expected a mapping or a list of mappings to "
                       "merge into this one")
            sources = []
        merged: dict[str, Any] = {}
        for i, each in enumerate(sources):
            at = source_path if each is source else source_path + (i,)
            for key, value in each.items():
                if key in merged or key in frame.value:
                    continue
                merged[key] = value
                key_place = frame.key_positions.pop(at + (key,), None)
                if key_place is not None:
                    frame.key_positions[frame.path + (key,)] = key_place
                moved = move_places(value, at + (key,), frame.path + (key,), frame.positions,
                                    frame.key_positions)
                self._count(event, frame.path, moved, "merge key <<")
        move_places(source, source_path, None, frame.positions, frame.key_positions)
        frame.key_positions.pop(source_path, None)
        frame.value = {**merged, **frame.value}
        self.docs[-1].merged = True


def place(event: yaml.Event) -> tuple[int, int]:
    """Where an event starts, 1-based."""
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark else (1, 1)
