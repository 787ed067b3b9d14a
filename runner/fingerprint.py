"""Fingerprints: named components, each a hash, so a plan can say *what* changed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from runner.vocabulary import UNKNOWN


def digest(value: Any) -> str:
    """A stable hash of a JSON-able value."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


OUTPUTS_MEMO = "memo:outputs"  # on a record: `digest` of its (redacted) outputs, as stored


def same(recorded: Mapping[str, str], planned: Mapping[str, str]) -> bool:
    """Whether two fingerprints agree on everything but their memos (which say how a result was
    made, or stand for what the record already holds, never what decides it)."""
    decisive = 0
    for name, value in planned.items():
        if not name.startswith("memo:"):
            if recorded.get(name) != value:
                return False
            decisive += 1
    return decisive == sum(1 for name in recorded if not name.startswith("memo:"))


def settings_components(rendered: Any) -> dict[str, str]:
    """`setting:<key>` per top-level key (UNKNOWN values are left out: not known yet)."""
    if isinstance(rendered, dict):
        return {f"setting:{k}": digest(v) for k, v in rendered.items() if v is not UNKNOWN}
    return {"setting:": digest(rendered)}


def reasons(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """Why two fingerprints differ, one reason per component."""
    out = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after or name.startswith("memo:"):
            continue  # a memo (planning/reuse.py) says how a rendering was made, not what
        prefix, _, subject = name.partition(":")
        out.append(_reason(prefix, subject, name, before, after))
    return out


def _reason(prefix: str, subject: str, name: str, before: str | None, after: str | None) -> str:
    if prefix == "setting":
        if before is None:
            return f"setting {subject} added" if subject else "settings changed"
        if after is None:
            return f"setting {subject} removed"
        return f"setting {subject} changed" if subject else "settings changed"
    if prefix == "file":
        if after == "missing":
            return f"file {subject} is missing"
        if before is None or before == "missing":
            return f"file {subject} added"
        if after is None:
            return f"file {subject} no longer watched"
        return f"file {subject} changed"
    if prefix == "dep":
        if before is None:
            return f"now depends on {subject}"
        if after is None:
            return f"no longer depends on {subject}"
        return f"{subject} changed since this was applied"
    return f"{name} changed"
