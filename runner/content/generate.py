"""Generating one task: the stack's three prompts sent as one conversation for the task JSON,
then the solution (with the starter code in context) and its grading material, then the gates.
A failed gate feeds its reasons back into a regeneration while the budget lasts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from runner.content import gates, review_grading, templates
from runner.content.models import Review, Solution, TaskDraft
from runner.content.profile import Profile
from runner.content.stacks import Resolution
from runner.errors import StepFailed
from runner.providers import git
from runner.providers.call import Call
from runner.providers.llm import LLM, InvalidReply, Request, Usage
from runner.workspace import Workspace

STACK_PROMPTS = ("context.j2", "input_and_ask.j2", "instructions.j2")
SYSTEM = ("You are an expert author of practical coding assessments. Follow the instructions "
          "exactly and answer with JSON only.")


@dataclass(frozen=True)
class TaskInputs:
    """Everything that decides a generated task."""

    repo: str
    competencies: list[dict[str, Any]]
    background: dict[str, Any]
    scenario: str
    scenario_key: str
    resolution: Resolution
    minutes: str
    scaffold: str
    profile: Profile = field(default_factory=Profile)
    exercise: str = ""  # the offline exercise (template provider)
    conversation: str = "single"  # how the provider sends the three prompts (single | turns)

    @property
    def proficiency(self) -> str:
        return top_proficiency(self.competencies)

    def variables(self, feedback: list[str]) -> dict[str, Any]:
        names = [str(c["name"]) for c in self.competencies]
        return {"competencies": self.competencies, "competency_names": " and ".join(names),
                "background": self.background, "scenario": self.scenario,
                "scenario_key": self.scenario_key, "proficiency": self.proficiency,
                "minutes_range": self.minutes, "stack": self.resolution.stack.name,
                "category": self.resolution.category, "repo": self.repo,
                "slug": self.repo[:49].strip("-"), "feedback": feedback,
                "title": " ".join(w.capitalize() for w in self.repo.split("-")),
                "grading": self.profile.grading, "deploy": self.profile.deploy,
                "toolchain": self.profile.describe, "toolchain_name": self.profile.toolchain,
                "exercise_id": self.exercise,
                "conversation": self.conversation}


def top_proficiency(competencies: list[dict[str, Any]]) -> str:
    """The highest proficiency of a competency set: it decides the task's level."""
    order = ["BEGINNER", "BASIC", "INTERMEDIATE", "ADVANCED"]
    levels = [str(c.get("proficiency") or "BASIC") for c in competencies]
    return max(levels, key=lambda lv: order.index(lv) if lv in order else 1)


@dataclass
class Generated:
    draft: TaskDraft | None = None
    solution: Solution | None = None
    golden_patch: str = ""
    held_out_patch: str = ""
    gates: dict[str, list[str]] = field(default_factory=dict)
    review: Review | None = None
    usage: Usage = field(default_factory=Usage)
    attempts: int = 0
    model: str = ""
    profile: Profile = field(default_factory=Profile)
    scenario: str = ""

    @property
    def passed(self) -> bool:
        return self.draft is not None and not any(self.gates.values())

    def failures(self) -> list[str]:
        return [f"{gate}: {problem}" for gate, problems in self.gates.items() for problem in problems]


def prompt_fingerprint(ws: Workspace, stack: str) -> dict[str, str]:
    """The prompt files that decide a task: the stack's three and the shared ones."""
    out = templates.tree_digests(ws, f"prompts/{stack}")
    out.update(templates.tree_digests(ws, "prompts/_shared"))
    return out


def conversation(ws: Workspace, inputs: TaskInputs, feedback: list[str]
                 ) -> tuple[dict[str, str], ...]:
    variables = inputs.variables(feedback)
    stack = inputs.resolution.stack.name
    turns = [templates.render_file(ws, templates.require(ws, f"prompts/{stack}/{name}",
                                                         f"stack {stack}"), variables)
             for name in STACK_PROMPTS]
    return ({"role": "system", "content": SYSTEM},
            *({"role": "user", "content": turn} for turn in turns))


def generate(ws: Workspace, llm: LLM, inputs: TaskInputs, call: Call,
             regenerations: int) -> Generated:
    """Generate until every gate passes or the regeneration budget is spent."""
    usage = Usage()
    feedback: list[str] = []
    rounds = 1 if llm.deterministic else regenerations + 1  # the same inputs give the same task
    result = Generated()
    for attempt in range(1, rounds + 1):
        result = _attempt(ws, llm, inputs, call, feedback)
        usage.add(result.usage)
        result.usage, result.attempts = usage, attempt
        if result.passed:
            break
        feedback = result.failures()
        if attempt < rounds:
            call.log(f"gates failed ({'; '.join(feedback)[:300]}); regenerating")
    return result


def _attempt(ws: Workspace, llm: LLM, inputs: TaskInputs, call: Call,
             feedback: list[str]) -> Generated:
    out = Generated(model=llm.model, profile=inputs.profile, scenario=inputs.scenario)
    variables = inputs.variables(feedback)
    facts = {"scaffold": inputs.scaffold, "exercise": inputs.exercise, "variables": variables}
    try:
        call.log(f"generating the task with {llm.name} ({inputs.resolution.stack.name} prompts)")
        reply = llm.complete(Request("task", conversation(ws, inputs, feedback), TaskDraft,
                                     facts), call)
        out.usage.add(reply.usage)
        out.draft = reply.value
        call.log("generating the solution and its grading material")
        reply = llm.complete(_solution_request(ws, out.draft, facts, variables), call)
        out.usage.add(reply.usage)
        out.solution = reply.value
    except InvalidReply as exc:
        out.gates["schema"] = [exc.message]
        return out
    assert out.draft is not None and out.solution is not None
    starter = out.draft.code_files
    out.golden_patch = git.diff(starter, {**starter, **out.solution.files})
    out.held_out_patch = git.diff(starter, {**starter, **out.solution.tests})
    profile = inputs.profile
    out.gates = {"schema": [], **gates.all_problems(out.draft, out.solution, out.golden_patch,
                                                    grading=profile.grading,
                                                    deploy=profile.deploy)}
    if not any(out.gates.values()) and profile.grading == "review":
        call.log("grading the golden deliverable and the starter by rubric review")
        problems, used = review_grading.gate_problems(
            ws, llm, call, draft=out.draft, rubric=out.solution.rubric,
            solution_files=out.solution.files, scenario=inputs.scenario,
            competencies=inputs.competencies)
        out.usage.add(used)
        out.gates["grading"] = problems
    if any(out.gates.values()):
        out.gates["review"] = []  # not asked: the task already failed; asking would only cost
        return out
    out.review = _review(ws, llm, inputs, out, call)
    out.gates["review"] = [] if out.review.passed else (out.review.issues or
                                                          [out.review.feedback or "rejected"])
    return out


def _solution_request(ws: Workspace, draft: TaskDraft, facts: dict[str, Any],
                      variables: dict[str, Any]) -> Request:
    task = draft.model_dump(exclude={"code_files"})
    text = templates.render_file(ws, templates.require(ws, "prompts/_shared/solution.j2",
                                                       "the solution prompt"),
                                 {**variables, "task_json": json.dumps(task, indent=2),
                                  "starter_files": draft.code_files})
    return Request("solution", ({"role": "system", "content": SYSTEM},
                                {"role": "user", "content": text}), Solution,
                   {**facts, "draft": draft.model_dump()})


def _review(ws: Workspace, llm: LLM, inputs: TaskInputs, out: Generated, call: Call) -> Review:
    assert out.draft is not None and out.solution is not None
    variables = inputs.variables([])
    text = templates.render_file(ws, templates.require(ws, "prompts/_shared/task_review.j2",
                                                       "the task review prompt"), {
        **variables, "task_json": json.dumps(out.draft.model_dump(), indent=2),
        "steps": out.solution.steps,
        "rubric_json": json.dumps([c.model_dump() for c in out.solution.rubric], indent=2)})
    facts = {"draft": out.draft.model_dump(), "solution": out.solution.model_dump(),
             "competencies": inputs.competencies, "scenario": inputs.scenario,
             "grading": inputs.profile.grading}
    call.log("reviewing the task")
    try:
        reply = llm.complete(Request("task_review", ({"role": "system", "content": SYSTEM},
                                                     {"role": "user", "content": text}),
                                     Review, facts, review=True), call)
    except StepFailed as exc:  # a review that cannot be had is a failed gate, never a pass
        raise StepFailed(f"gate review: the review call failed: {exc.message}",
                         output=exc.output, retryable=exc.retryable) from None
    out.usage.add(reply.usage)
    assert isinstance(reply.value, Review)
    return reply.value
