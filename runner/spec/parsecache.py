"""Parses of spec files kept between runs: what the YAML text says, as authenticated JSON.

An entry holds each document's plain value and where every value and mapping key sits, and
nothing else: no variable's value, so no secret. Its name is a digest of the file's bytes (and
of `cachestore.environment()`), so it can only ever stand for those bytes.
"""

from __future__ import annotations

from typing import Any

from runner.errors import SpecIssue
from runner.spec.cachestore import CacheStore, entry_name
from runner.spec.yamlsrc import Path_, SourceDoc, parse_bytes


def parse(store: CacheStore | None, data: bytes, display: str
          ) -> tuple[list[SourceDoc], list[SpecIssue]]:
    """What `parse_bytes(data, display)` returns, from the store when it holds this parse."""
    if store is None:
        return parse_bytes(data, display)
    name = entry_name("parse", data)
    docs = _decode(store.read(name, size_limit(data)), display)
    if docs is not None:
        return docs, []
    docs, issues = parse_bytes(data, display)
    if not issues:  # a file with problems is parsed afresh each time: its issues stay exact
        try:
            store.write(name, [_encode(doc) for doc in docs], size_limit(data))
        except (KeyError, ValueError, RecursionError):
            pass  # positions the walk cannot account for: parse this file each time
    return docs, issues


def size_limit(data: bytes) -> int:
    """The largest entry kept for a file of `data`: its values plus two numbers per value are
    far below it, unless anchors repeat large parts, and such files are parsed each time."""
    return 64 * len(data) + (1 << 20)


def _encode(doc: SourceDoc) -> list[Any]:
    value_paths, key_paths = _paths(doc.value)
    if len(value_paths) != len(doc.positions) or len(key_paths) != len(doc.key_positions):
        raise ValueError("positions that the value does not account for")
    return [doc.index, doc.value, _flat(doc.positions, value_paths),
            _flat(doc.key_positions, key_paths)]


def _decode(data: Any, display: str) -> list[SourceDoc] | None:
    if not isinstance(data, list):
        return None
    try:
        docs = []
        for index, value, places, key_places in data:
            value_paths, key_paths = _paths(value)
            docs.append(SourceDoc(file=display, index=index, value=value,
                                  positions=_unflat(value_paths, places),
                                  key_positions=_unflat(key_paths, key_places)))
        return docs
    except (ValueError, TypeError, RecursionError):
        return None  # authentic, so ours, yet not this layout: parse again


def _paths(value: Any) -> tuple[list[Path_], list[Path_]]:
    """Every value's path and every mapping key's path, in the order the parser records them
    (depth first, in document order). Positions travel as bare numbers in this order, so no
    path is written and none needs an encoding."""
    value_paths: list[Path_] = []
    key_paths: list[Path_] = []

    def visit(item: Any, path: Path_) -> None:
        value_paths.append(path)
        if type(item) is dict:
            for key, child in item.items():
                key_paths.append(path + (key,))
                visit(child, path + (key,))
        elif type(item) is list:
            for i, child in enumerate(item):
                visit(child, path + (i,))
    visit(value, ())
    return value_paths, key_paths


def _flat(places: dict[Path_, tuple[int, int]], paths: list[Path_]) -> list[int]:
    return [number for path in paths for number in places[path]]


def _unflat(paths: list[Path_], numbers: list[int]) -> dict[Path_, tuple[int, int]]:
    if len(numbers) != 2 * len(paths):
        raise ValueError("positions do not match the value")
    return dict(zip(paths, zip(numbers[0::2], numbers[1::2], strict=True), strict=True))
