"""Parses of spec files kept between runs: what the YAML text says, as authenticated JSON.

An entry holds each document's plain value and where every value and mapping key sits, and
nothing else: no variable's value, so no secret. Its name is a digest of the file's bytes (and
of `cachestore.environment()`), so it can only ever stand for those bytes.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from runner.spec.cachestore import CacheStore, entry_name
from runner.spec.yamlsrc import Path_, SourceDoc


def find(store: CacheStore, data: bytes, display: str) -> list[SourceDoc] | None:
    """The documents `parse_bytes(data, display)` gives, if the store holds them."""
    return _decode(store.read(entry_name("parse", data), size_limit(data)), display)


def keep(store: CacheStore, data: bytes, docs: list[SourceDoc]) -> bool:
    """Store the documents parsed from `data` (which must have parsed without an issue)."""
    try:
        plain = [_encode(doc) for doc in docs]
    except ValueError:
        return False  # positions the walk cannot account for: parse this file each time
    return store.write(entry_name("parse", data), plain, size_limit(data))


def size_limit(data: bytes) -> int:
    """The largest entry kept for a file of `data`: its values plus two numbers per value are
    far below it, unless anchors repeat large parts, and such files are parsed each time."""
    return 64 * len(data) + (1 << 20)


def _encode(doc: SourceDoc) -> list[Any]:
    # the parser records positions in the order `_paths` walks: check it, then copy them as is
    value_paths, key_paths = _paths(doc.value)
    if list(doc.positions) != value_paths or list(doc.key_positions) != key_paths:
        raise ValueError("positions that the value does not account for")
    return [doc.index, doc.value, list(chain.from_iterable(doc.positions.values())),
            list(chain.from_iterable(doc.key_positions.values()))]


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


def _unflat(paths: list[Path_], numbers: list[int]) -> dict[Path_, tuple[int, int]]:
    if len(numbers) != 2 * len(paths):
        raise ValueError("positions do not match the value")
    return dict(zip(paths, zip(numbers[0::2], numbers[1::2], strict=True), strict=True))
