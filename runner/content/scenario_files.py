"""The seed's scenario files (`{"<key>": ["scenario", ...]}`), written from the scenario sets
taskform accepted: the file by proficiency as the seed's generator chose it (NON_CODE sets to
task_sceanrio_no_code.json, sic; INTERMEDIATE to task_scenarios_intermediate.json; every other
level to task_scenarios.json), keys written the one normal way, and merged into what a file
already holds when asked to (the seed's --append)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.content.keys import PROFICIENCIES, identity, normal_key
from runner.errors import TaskformError

NO_CODE, INTERMEDIATE, DEFAULT = ("task_sceanrio_no_code.json",
                                  "task_scenarios_intermediate.json", "task_scenarios.json")


@dataclass(frozen=True)
class ScenarioSetRecord:
    """What a recorded scenario set contributes: its key, level, category and scenarios."""

    address: str
    key: str
    proficiency: str
    category: str
    scenarios: list[str]


@dataclass
class Written:
    path: Path
    keys: int = 0
    scenarios: int = 0
    added: int = 0
    sets: list[str] = field(default_factory=list)


def file_for(proficiency: str, category: str) -> str:
    """The seed generator's target file (scenario_generator/generator.py)."""
    if category == "NON_CODE":
        return NO_CODE
    return INTERMEDIATE if proficiency == "INTERMEDIATE" else DEFAULT


def from_outputs(address: str, outputs: Mapping[str, Any]) -> ScenarioSetRecord:
    key = str(outputs.get("key") or "")
    levels = [level for _, level in identity(key) if level in PROFICIENCIES]
    level = str(outputs.get("proficiency") or
                max(levels, key=PROFICIENCIES.index, default="BASIC"))
    return ScenarioSetRecord(address, key, level, str(outputs.get("category") or ""),
                             [str(s) for s in outputs.get("scenarios") or []])


def export(sets: Iterable[ScenarioSetRecord], folder: Path, append: bool) -> list[Written]:
    """Write each set's scenarios under its normal key into its file; with `append`, merge into
    what the file holds (its keys normalised, scenarios not repeated)."""
    grouped: dict[str, list[ScenarioSetRecord]] = {}
    for found in sets:
        grouped.setdefault(file_for(found.proficiency, found.category), []).append(found)
    out = []
    for name, members in sorted(grouped.items()):
        path = folder / name
        table = read(path) if append and path.exists() else {}
        before = sum(len(v) for v in table.values())
        for member in members:
            table = merge(table, {member.key: member.scenarios})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(table, indent=2, ensure_ascii=False) + "\n")
        total = sum(len(v) for v in table.values())
        out.append(Written(path, len(table), total, total - before,
                           [m.address for m in members]))
    return out


def merge(table: Mapping[str, list[str]], more: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Both tables under normal keys; a key written two ways is one key, and a scenario already
    there (whitespace aside) is not added again."""
    out: dict[str, list[str]] = {}
    names: dict[Any, str] = {}
    for written in [*more, *table]:  # the exported spelling wins over the file's
        names.setdefault(identity(written), normal_key(written))
    for written, scenarios in [*table.items(), *more.items()]:
        key = names[identity(written)]
        kept = out.setdefault(key, [])
        seen = {" ".join(s.split()) for s in kept}
        kept += [s for s in scenarios if " ".join(s.split()) not in seen]
    return out


def read(path: Path) -> dict[str, list[str]]:
    try:
        table = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise TaskformError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    if not isinstance(table, dict) or not all(isinstance(v, list) for v in table.values()):
        raise TaskformError(f"{path}: expected an object mapping keys like \"Java (BASIC), Kafka "
                            "(BASIC)\" to lists of scenarios")
    return {str(k): [str(s) for s in v] for k, v in table.items()}
