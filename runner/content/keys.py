"""Scenario keys like `Java (BASIC), Kafka (BASIC)`: built, parsed and compared here and
nowhere else, so a file written as `JAVA (BASIC), KAFKA (BASIC)` or `Java(BASIC),Kafka(BASIC)`
is found for the same competencies, and a key that is not there is an error, never `[]`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from runner.errors import TaskformError

PROFICIENCIES = ("BEGINNER", "BASIC", "INTERMEDIATE", "ADVANCED")
_ITEM = re.compile(r"^(?P<name>.+?)\s*\(\s*(?P<level>[A-Za-z_]+)\s*\)$")

Identity = tuple[tuple[str, str], ...]


class KeyNotFound(TaskformError):
    """No scenarios are stored under a competency set's key."""


def canonical_name(name: str) -> str:
    """`Python - FastAPI`, `python-fastapi` and `PYTHON -  FASTAPI` are one name."""
    name = re.sub(r"\s+", " ", name.strip().casefold())
    return re.sub(r"\s*-\s*", "-", name)


def scenario_key(items: Iterable[tuple[str, str]]) -> str:
    """The display key: names as written, proficiency upper-case, sorted by canonical name."""
    pairs = sorted(((n.strip(), p.strip().upper()) for n, p in items),
                   key=lambda pair: (canonical_name(pair[0]), pair[1]))
    return ", ".join(f"{name} ({level})" if level else name for name, level in pairs)


def key_of(competencies: Iterable[Mapping[str, Any]], proficiency: str | None = None) -> str:
    """The key of a competency set (each with `name` and `proficiency`); `proficiency`
    overrides every item's level."""
    return scenario_key((str(c["name"]), proficiency or str(c.get("proficiency") or ""))
                        for c in competencies)


def normal_key(key: str) -> str:
    """A key written any way (`JAVA(BASIC),kafka (basic)`) the one normal way: names as
    written, spacing normalised, proficiency in capitals, sorted by name."""
    items = []
    for part in key.split(","):
        part = " ".join(part.split())
        if part:
            match = _ITEM.match(part)
            items.append((match["name"], match["level"]) if match else (part, ""))
    return scenario_key(items)


def identity(key: str) -> Identity:
    """What two keys must share to be the same: canonical names and levels, order ignored."""
    out = []
    for part in key.split(","):
        part = part.strip()
        if not part:
            continue
        match = _ITEM.match(part)
        name, level = (match["name"], match["level"].upper()) if match else (part, "")
        out.append((canonical_name(name), level))
    return tuple(sorted(out))


def find_scenarios(table: Mapping[str, Any], key: str, source: str) -> tuple[str, list[str]]:
    """The key as written in `table` and its scenarios; KeyNotFound names what is there."""
    wanted = identity(key)
    for written, scenarios in table.items():
        if identity(written) == wanted:
            return written, list(scenarios)
    shown = ", ".join(repr(k) for k in list(table)[:12]) or "none"
    more = f" (and {len(table) - 12} more)" if len(table) > 12 else ""
    raise KeyNotFound(f"{source} has no scenarios for {key!r} (keys are matched ignoring case, "
                      f"spacing and order); its keys: {shown}{more}")
