"""Test kinds: register a kind for one test, declaring what it can do, as the table would."""

from __future__ import annotations

from typing import Any

from runner.kinds.base import BaseKind, Can
from runner.kinds.registry import KINDS, STEP_TYPES, KindEntry


def register(monkeypatch: Any, kind: BaseKind, *can: Can,
             fails_with_children: bool = False, reuse_expansion: bool = False) -> None:
    """Make `kind` a pipeline step type for one test."""
    entry = KindEntry(kind.name, kind, can=frozenset(can), fails_with_children=fails_with_children,
                      reuse_expansion=reuse_expansion)
    monkeypatch.setitem(KINDS, kind.name, entry)
    monkeypatch.setitem(STEP_TYPES, kind.name, entry)
