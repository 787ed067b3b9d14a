"""`taskform.yaml` validated, kept between runs in the spec cache (`cachestore`): its settings as
the models dump them and each variable's declaration, so an unchanged workspace opens without
parsing YAML or loading pydantic.

A workspace has one entry, named by `cachestore.environment()` (taskform's code, the models
with it) and holding a digest of the bytes it was validated from, so it stands for exactly what
validating those bytes again would give; only a file that validated is kept. Nothing secret is
written: a file declaring a secret variable with a literal `value` or `default` is validated
each time instead, and its entry (which may hold that value from before it was declared
secret) removed; values from the environment are never part of an entry (variables are
resolved afresh on every run).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.spec.cachestore import CacheStore, entry_name, open_store

LIMIT = 1 << 20


@dataclass(frozen=True)
class Validated:
    """What validating taskform.yaml gave: the settings as the models dump them, each
    variable's declaration, and the mapping as written (which the models validate again, on
    first use, to the same values: a default keeps its type)."""

    settings: dict[str, Any]
    declarations: dict[str, Any]
    written: dict[str, Any]


def find(root: Path, data: bytes) -> Validated | None:
    """What validating `taskform.yaml`'s bytes `data` gave, if the cache holds it."""
    store = _store(root)
    entry = store.read(_name(), LIMIT) if store else None
    if not isinstance(entry, dict) or entry.get("source") != _digest(data):
        return None  # no entry, another file's, or not this layout
    settings, declarations, written = (entry.get(k) for k in ("settings", "declarations",
                                                               "written"))
    if not (isinstance(settings, dict) and isinstance(declarations, dict)
            and isinstance(written, dict)):
        return None
    return Validated(settings, declarations, written)


def keep(root: Path, data: bytes, validated: Validated) -> bool:
    """Store what `data` validated to, unless it holds a secret literal or JSON would not give
    it back as it is; False when nothing was stored."""
    store = _store(root)
    if store is None:
        return False
    if any(isinstance(d, dict) and d.get("secret") and (d.get("value") is not None or
                                                         d.get("default") is not None)
           for d in validated.declarations.values()):
        store.remove(_name())
        return False
    parts = {"settings": validated.settings, "declarations": validated.declarations,
             "written": validated.written}
    if not all(_is_exact(part) for part in parts.values()):
        return False  # a date from YAML, say: it would come back as text
    return store.write(_name(), {"source": _digest(data), **parts}, LIMIT)


def _name() -> str:
    return entry_name("workspace", b"taskform.yaml")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _store(root: Path) -> CacheStore | None:
    return open_store(root / ".taskform", root)


def _is_exact(value: Any) -> bool:
    kind = type(value)
    if kind is dict:
        return all(type(k) is str and _is_exact(v) for k, v in value.items())
    if kind is list:
        return all(_is_exact(v) for v in value)
    return kind in (str, int, float, bool, type(None))
