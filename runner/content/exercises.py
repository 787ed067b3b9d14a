"""Which exercise of a scaffold's catalogue an offline task is, and the scenario it shows. A
task's scenario is matched to the exercise whose criteria it names; without a scenario the task
takes the exercise's own, so the README never describes one problem above the objectives of
another. The offline review then checks the match (`behaviour.consistency_problems`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import yaml

from runner.content import scaffold, templates
from runner.content.behaviour import mentions_any
from runner.errors import TaskformError
from runner.workspace import Workspace

SCENARIO_BANK = "scenarios/bank.yaml"


@dataclass(frozen=True)
class Choice:
    exercise: str
    scenario: str
    via: str  # "setting", "scenario" (matched to the given one) or "own" (the exercise's)


def scenario_variables(competencies: list[dict[str, Any]], proficiency: str) -> dict[str, Any]:
    """What an exercise's scenarios (and the offline scenario bank) are rendered with."""
    names = [str(c["name"]) for c in competencies]
    return {"names": " and ".join(names), "first": names[0] if names else "",
            "proficiency": proficiency}


def choose(ws: Workspace, name: str, *, scenario: str | None, requested: str | None,
           seed: str, variables: dict[str, Any], category: str) -> Choice:
    """The exercise a task uses: the one asked for, else the best match for the scenario it
    was given, else one picked by `seed` (stable per task, so a pool's tasks spread over the
    catalogue). A task given no scenario shows the exercise's own (or, for an exercise without
    scenarios, one of its category's in the offline bank); a scenario given is kept as is, even
    empty, for the review to judge."""
    ids = scaffold.exercises(ws, name)
    if requested:
        scaffold.exercise_spec(ws, name, requested)  # an unknown id lists the catalogue
        chosen, via = requested, "setting"
    elif scenario is not None and scenario.strip():
        scores = [(_score(ws, name, e, scenario), -n, e) for n, e in enumerate(ids)]
        chosen, via = max(scores)[2], "scenario"
    else:
        chosen, via = ids[_index(seed, len(ids))], "own"
    if scenario is not None:
        return Choice(chosen, scenario, via)
    own = own_scenario(ws, name, chosen, seed, variables)
    if not own:
        bank = offline_bank(ws, category, None, variables)
        own = bank[_index(seed + "/bank", len(bank))]
    return Choice(chosen, own, via)


def own_scenario(ws: Workspace, name: str, exercise: str, seed: str,
                 variables: dict[str, Any]) -> str:
    """One of the exercise's scenarios, rendered (empty when it has none)."""
    written = scaffold.exercise_spec(ws, name, exercise).scenarios
    if not written:
        return ""
    where = f"tasks/{name}/exercises/{exercise}/exercise.yaml"
    text = written[_index(seed + "/scenario", len(written))]
    return templates.render_text(ws, text, variables, where).strip()


def bank(ws: Workspace, name: str, variables: dict[str, Any]) -> list[str]:
    """Every exercise's scenarios, first of each exercise first: the offline scenario bank of
    a stack whose scaffold has a catalogue (empty when its exercises bring none)."""
    per_exercise = [scaffold.exercise_spec(ws, name, e).scenarios
                    for e in scaffold.exercises(ws, name)]
    out = []
    for round_ in range(max((len(s) for s in per_exercise), default=0)):
        for n, written in enumerate(per_exercise):
            if round_ < len(written):
                where = f"tasks/{name}/exercises/{n}"
                out.append(templates.render_text(ws, written[round_], variables, where).strip())
    return out


def _score(ws: Workspace, name: str, exercise: str, scenario: str) -> tuple[int, int]:
    """(criteria whose behaviour the scenario names, required ones among them)."""
    rubric = scaffold.exercise_spec(ws, name, exercise).rubric
    named = [c for c in rubric if mentions_any(scenario, c.behaviour)]
    return len(named), sum(1 for c in named if c.required)


def _index(seed: str, size: int) -> int:
    return int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16) % size


def offline_bank(ws: Workspace, category: str, scaffold_name: str | None,
                 variables: dict[str, Any]) -> list[str]:
    """The offline provider's scenarios: those of the scaffold's exercises (so a generated
    scenario always has an exercise that fits it), else the category's in the bank file."""
    if scaffold_name:
        found = bank(ws, scaffold_name, variables)
        if found:
            return found
    path = templates.require(ws, SCENARIO_BANK, "the offline scenario bank")
    entries = (yaml.safe_load(path.read_text()) or {}).get(category) or []
    if not entries:
        raise TaskformError(f"{templates.shown(ws, path)} has no scenarios for {category}")
    where = templates.shown(ws, path)
    return [templates.render_text(ws, e, variables, where).strip() for e in entries]
