"""What a generated task records: its outputs (read by other resources and `taskform tasks
list`), the generation's metadata kept beside the task folder, and the failure a gate raises."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from runner.content import gates, taskdir
from runner.content.generate import Generated, TaskInputs
from runner.errors import StepFailed

GATES = ("schema", "readme", "references", "leaks", "grading", "deploy", "review")


def gate_report(found: Mapping[str, list[str]]) -> dict[str, Any]:
    return {g: ("passed" if not found[g] else found[g]) if g in found else "not run"
            for g in GATES}


def meta(key: str, generated: Generated, provider: str, inputs: TaskInputs) -> dict[str, Any]:
    """generation.json: what the folder was generated from and how it fared."""
    return {"key": key, "passed": generated.passed, "gates": generated.gates,
            "provider": provider, "model": generated.model, "attempts": generated.attempts,
            "usage": generated.usage.as_dict(), "profile": generated.profile.as_dict(),
            "exercise": inputs.exercise, "scenario": inputs.scenario}


def gate_failure(generated: Generated, where: str) -> StepFailed:
    failures = generated.failures()
    failed = [g for g in GATES if generated.gates.get(g)]
    lines = [*(f"  {f}" for f in failures),
             f"attempts: {generated.attempts}; usage: {json.dumps(generated.usage.as_dict())}",
             f"the rejected generation is kept in {where}"]
    return StepFailed(f"{len(failed)} quality gate(s) failed ({', '.join(failed)}); the task was "
                      "not published", output="\n".join(lines), retryable=False)


def outputs(refs: list[str], inputs: TaskInputs, generated: Generated, meta: dict[str, Any],
            rubrics: list[dict[str, Any]]) -> dict[str, Any]:
    draft, solution = generated.draft, generated.solution
    assert draft is not None and solution is not None
    base = f".taskform/tasks/{inputs.repo}"
    return {
        "name": draft.name, "repo": inputs.repo, "question": draft.question,
        "short_overview": draft.short_overview, "outcomes": draft.outcomes,
        "pre_requisites": draft.pre_requisites, "hints": draft.hints,
        "definitions": draft.definitions,
        "readme": gates.readme_summary(draft.code_files["README.md"]),
        "competencies": [{k: c.get(k) for k in ("name", "proficiency", "competency_id")}
                         for c in inputs.competencies],
        "competency_refs": refs, "scenario": inputs.scenario,
        "scenario_key": inputs.scenario_key, "stack": inputs.resolution.stack.name,
        "category": inputs.resolution.category, "minutes": inputs.minutes,
        "scaffold": inputs.scaffold if meta["provider"] == "template" else None,
        "exercise": inputs.exercise or None,
        "provider": meta["provider"], "model": meta["model"], "generation": meta["key"],
        "gates": gate_report(generated.gates),
        "review": generated.review.feedback if generated.review else "",
        "dir": base,
        "files": {"starter": sorted(draft.code_files), "solution": sorted(solution.files),
                  "held_out_tests": sorted(solution.tests)},
        "grading": _grading(base, generated, rubrics),
        "deploy": generated.profile.deploy,
        "usage": meta["usage"]}


def _grading(base: str, generated: Generated, rubrics: list[dict[str, Any]]) -> dict[str, Any]:
    mode = generated.profile.grading
    out: dict[str, Any] = {"mode": mode,
                           **{k: f"{base}/{v}" for k, v in taskdir.grading_files(generated).items()},
                           "starter": f"{base}/starter", "criteria": len(rubrics),
                           "total_score": sum(r["score"] for r in rubrics)}
    if mode == "tests":
        out.update({"dir": f"{base}/grading", "dockerfile": f"{base}/{taskdir.RECIPE}",
                    "project": f"{base}/{taskdir.PROJECT}", "toolchain": generated.profile.toolchain})
    return out
