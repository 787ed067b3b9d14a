"""Settings that validated before, so a changed spec file validates only the settings that
changed: one value edited in a file of 5,000 steps validates one step, not 5,000.

A file whose bytes changed misses the validated layer (`loadedcache`), which is keyed by those
bytes. Reading it again parses it whole (positions can move anywhere), but each settings block
is validated only when its digest is new: the digest of the kind, the block as rendered at load
time and the paths left for templates that read outputs. Validation reads nothing else (see
`loadedcache`), so a known digest says what validating again would say: no issue, and these
references (what the kind's `references` gave). Only blocks that validated without an issue are
remembered, and only for the file they were read in (one entry per file, keyed by its display
path, holding the blocks of its latest read and the analysis of its templates).

Entries live in the workspace's `CacheStore`, sealed like every other layer; their names digest
taskform's code and the libraries', so an upgrade starts afresh.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from runner.address import Selection
from runner.spec.cachestore import CacheStore, entry_name
from runner.spec.loadedcache import remember_analyses

Reference = str | Selection


class SettingsMemo:
    """The settings blocks known to be valid, by digest, with their references; and the ones
    this read met (`seen`: what the next read of the file can take)."""

    def __init__(self, known: dict[str, list[Any]] | None = None) -> None:
        self.known = known or {}
        self.seen: dict[str, list[Any]] = {}

    @staticmethod
    def key(kind: str, value: Any, deferred: Iterable[tuple[str | int, ...]]) -> str:
        # repr, not JSON: exact for the plain data YAML and load-time rendering give (1, 1.0,
        # True and "1" differ), and key order counts, which can only cost a miss
        text = repr((kind, value, sorted(deferred, key=repr)))
        return hashlib.sha256(text.encode()).hexdigest()

    def find(self, key: str) -> list[Reference] | None:
        """The references of a block known to be valid, or None when it must be validated."""
        plain = self.known.get(key)
        if plain is None:
            return None
        try:
            found = [_reference(item) for item in plain]
        except (TypeError, ValueError):  # not this layout: validate it
            return None
        self.seen[key] = plain
        return found

    def carry_known(self) -> None:
        """Count every known block as met: a read of one step apart (`splice`) met only its
        own, and the file's other blocks are as they were."""
        self.seen = {**self.known, **self.seen}

    def note(self, key: str, references: Iterable[Reference]) -> None:
        """Remember a block that validated without an issue, with its references."""
        self.seen[key] = [_plain(ref) for ref in references]


def recall(store: CacheStore, display: str, limit: int) -> SettingsMemo:
    """What the latest read of the file `display` validated, and its templates' analysis."""
    entry = store.read(_name(display), limit)
    try:
        known = dict(entry["settings"])
        remember_analyses(entry["analysis"])
        return SettingsMemo(known)
    except (KeyError, IndexError, TypeError, ValueError):  # no entry (None), or not this layout
        return SettingsMemo()


def keep(store: CacheStore, display: str, memo: SettingsMemo, analysis: list[list[Any]],
         limit: int) -> bool:
    """Store what this read validated, with its templates' `analysis` (`loadedcache.analyses`),
    for the next read of `display` after a change."""
    if memo.seen == memo.known:
        return True  # the entry already says this
    entry = {"settings": memo.seen, "analysis": analysis}
    return store.write(_name(display), entry, limit)


def _name(display: str) -> str:
    return entry_name("settings", display.encode())


def _plain(ref: Reference) -> Any:
    if isinstance(ref, Selection):
        return [ref.type, [list(pair) for pair in ref.labels], list(ref.at)]
    return ref


def _reference(plain: Any) -> Reference:
    if isinstance(plain, str):
        return plain
    kind, labels, at = plain
    if not isinstance(kind, str):
        raise ValueError(kind)
    return Selection(kind, tuple((str(k), str(v)) for k, v in labels), tuple(at))
