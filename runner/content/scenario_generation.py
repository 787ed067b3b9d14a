"""Generating a scenario set's scenarios, shared by the ScenarioSet kind (apply) and the plan's
preview (the seed's --dry-run): the facts the prompts and the offline provider work from, the
prompts of each round, and the quality pipeline run over them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runner.content import llm_choice, scaffold, stacks, templates
from runner.content.scenarios import Outcome, Pipeline, Prompts, Rejection
from runner.providers.call import Call
from runner.providers.llm import LLM
from runner.workspace import Workspace

SCENARIO_PROMPTS = ("prompts/_shared/scenarios.j2", "prompts/_shared/scenario_review.j2")
BANK = "scenarios/bank.yaml"


def facts(ws: Workspace, competencies: Sequence[dict[str, Any]], proficiency: str | None,
          key: str, resolution: stacks.Resolution, background: dict[str, Any]) -> dict[str, Any]:
    """What the prompts are rendered with and the offline provider answers from."""
    table, _ = stacks.load_table(ws)
    names = [str(c["name"]) for c in competencies]
    level = proficiency or str(competencies[0].get("proficiency") or "BASIC")
    return {"category": resolution.category, "scaffold": resolution.stack.scaffold,
            "names": " and ".join(names), "first": names[0],
            "competency_names": names, "proficiency": level, "scenario_key": key,
            "focus": table.focus.get(resolution.category, ""),  # type: ignore[call-overload]
            "minutes_range": stacks.minutes_for(table, competencies),
            "background": background}


def prompts(ws: Workspace, set_facts: dict[str, Any], others: Sequence[str]) -> Prompts:
    """The conversation of each round: generation, then review of what survived screening."""
    def messages(purpose: str, count: int, rejected: list[Rejection],
                 candidates: Any) -> tuple[dict[str, str], ...]:
        name = SCENARIO_PROMPTS[0] if purpose == "scenarios" else SCENARIO_PROMPTS[1]
        text = templates.render_file(ws, templates.require(ws, name, "scenario generation"), {
            **set_facts, "count": count, "rejected": [r.as_dict() for r in rejected],
            "candidates": list(candidates), "existing": list(others)})
        return ({"role": "user", "content": text},)
    return messages


def run(ws: Workspace, llm: LLM, set_facts: dict[str, Any], *, count: int,
        written: Sequence[str], others: Sequence[str], accepted: Sequence[str],
        regenerations: int, call: Call) -> Outcome:
    """Generate until `count` scenarios passed (dedup against `written` and `others`)."""
    pipeline = Pipeline(llm, set_facts, prompts(ws, set_facts, others), call, regenerations)
    return pipeline.run(count, [*written, *others], accepted)


def components(ws: Workspace, competencies: Sequence[dict[str, Any]], provider: str | None,
               model: str | None) -> dict[str, str]:
    """What decides the generated scenarios besides the set's own settings and inputs."""
    out = {f"template:{p}": templates.digest(templates.require(ws, p, "scenario generation"))
           for p in SCENARIO_PROMPTS}
    if (provider or ws.config.llm.provider) == "template":
        # offline scenarios come from the bank file and the stack's exercises
        out[f"template:{BANK}"] = templates.digest(templates.require(ws, BANK, "the offline "
                                                                      "scenario bank"))
        out.update(scaffold.fingerprint(ws, stacks.resolve(ws, competencies).stack.scaffold))
    out.update(llm_choice.fingerprint(ws, provider, model))
    return out
