"""`task_draft` (internal): the generation half of a `Task`: competencies + background + scenario
-> task JSON, README, starter, solution and grading material, through every quality gate, written
to `.taskform/tasks/<repo>/`. A task verified in Docker expands into one (`task.<name>["draft"]`)
ahead of its grading; a task without verification runs the same `make_draft` in its own apply.
A draft failing a gate raises with the reasons; the rejected generation is kept apart."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from runner.address import Address
from runner.content import gates, llm_choice, scaffold, stacks, taskdir, templates
from runner.content.generate import Generated, TaskInputs, generate, prompt_fingerprint
from runner.content.keys import key_of
from runner.content.settings import REPO_NAME, GeneratorSettings, ScenarioChoice
from runner.errors import StepFailed, TaskformError
from runner.fingerprint import digest
from runner.kinds.base import BaseKind, Context, Settings
from runner.providers.call import Call
from runner.state.base import Record
from runner.vocabulary import UNKNOWN, Observation

GATES = ("schema", "readme", "references", "leaks", "grading", "review")


class TaskSpecSettings(Settings):
    """What decides a generated task."""

    competencies: list[str] = Field(min_length=1, description="Competency names")
    background: str = Field(description="a Background name")
    scenario: ScenarioChoice | None = None
    generator: GeneratorSettings = Field(default_factory=GeneratorSettings)
    minutes: str | None = Field(default=None, description="time budget; default: stacks.yaml's")


class TaskDraftSettings(TaskSpecSettings):
    repo: str = Field(pattern=REPO_NAME, description="the task's folder and repository name")


@dataclass(frozen=True)
class Draft:
    """A generated task that passed its gates, with the outputs describing it."""

    generated: Generated
    rubrics: list[dict[str, Any]]
    outputs: dict[str, Any]


class TaskDraftKind(BaseKind):
    name = "task_draft"
    settings_model = TaskDraftSettings

    def dependency_view(self, ctx: Context, settings: TaskDraftSettings, dependency: str,
                        outputs: Any) -> Any:
        return scenario_view(ctx, settings, dependency, outputs)

    def fingerprint(self, ctx: Context, settings: TaskDraftSettings) -> dict[str, str]:
        return fingerprint(ctx, settings)

    def observe(self, ctx: Context, record: Record) -> Observation:
        repo = record.outputs.get("repo")
        gone = taskdir.missing(ctx.workspace, repo) if repo else ["everything"]
        if gone:
            return Observation(reasons=(f"generated files in .taskform/tasks/{repo} are missing "
                                        f"({', '.join(gone)})",))
        return Observation()

    def apply(self, ctx: Context, settings: TaskDraftSettings, prior: Record | None) -> dict[str, Any]:
        return make_draft(ctx, settings, settings.repo, owner(ctx.address)).outputs

    # destroy: nothing; the folder belongs to the Task, which removes it when it goes


def owner(address: Address) -> Address:
    """The Task a draft (`task.x["draft"]`, `task_pool.p[3,"draft"]`) belongs to."""
    return Address(address.parts, address.key[:-1])


def references(settings: TaskSpecSettings) -> Iterable[str]:
    yield from (f"competency.{c}" for c in settings.competencies)
    yield f"background.{settings.background}"
    if settings.scenario and settings.scenario.set:
        yield f"scenario_set.{settings.scenario.set}"


def scenario_view(ctx: Context, settings: TaskSpecSettings, dependency: str, outputs: Any) -> Any:
    """Of a ScenarioSet, only the chosen scenario decides the task."""
    choice = settings.scenario
    if choice and choice.set and dependency == f"scenario_set.{choice.set}":
        try:
            return chosen_scenario(ctx, choice, outputs)
        except StepFailed as exc:  # apply reports it; the plan shows the task changing
            return {"problem": exc.message}
    return outputs


def fingerprint(ctx: Context, settings: TaskSpecSettings) -> dict[str, str]:
    resolution = stacks.resolve(ctx.workspace, _competencies(ctx, settings),
                                settings.generator.stack)
    return {**_input_components(ctx, settings, resolution),
            **taskdir.recipe_fingerprint(ctx.workspace)}


def make_draft(ctx: Context, settings: TaskSpecSettings, repo: str, task: Address) -> Draft:
    """Generate (or reuse what the same inputs generated), gate, and write the task folder.
    `task` is the Task's address: rubric ids are stable per task and criterion."""
    inputs, components = _inputs(ctx, settings, repo)
    key = digest(components)
    cached = taskdir.read(ctx.workspace, repo, key)
    if cached:
        ctx.log("reusing the task generated earlier from the same inputs")
        generated, meta = cached
    else:
        llm = llm_choice.llm_for(ctx.workspace, ctx.connections, settings.generator.provider,
                                   settings.generator.model)
        generated = generate(ctx.workspace, llm, inputs, Call(ctx.log, ctx.cancelled),
                             settings.generator.regenerations)
        meta = _meta(key, generated, llm.name)
        if not generated.passed:
            where = taskdir.write_failure(ctx.workspace, repo, generated, meta)
            raise _gate_failure(generated, ctx.workspace.relative(where))
    # written even when reused: the grading recipe may be new, or files may have been removed
    taskdir.write(ctx.workspace, repo, generated, str(task), meta)
    rubrics = taskdir.rubrics_json(generated, str(task))
    return Draft(generated, rubrics, _outputs(settings, inputs, generated, meta, rubrics))


def read_draft(ctx: Context, outputs: Any, task: Address) -> Draft:
    """The draft a `task_draft` child recorded, read back from its folder for publishing."""
    if not isinstance(outputs, Mapping) or not outputs.get("repo"):
        raise StepFailed(f"{task} has no generated draft recorded", retryable=False)
    repo = str(outputs["repo"])
    cached = taskdir.read(ctx.workspace, repo, str(outputs.get("generation")))
    if cached is None:
        raise StepFailed(f"the task generated in .taskform/tasks/{repo} is missing or was "
                         "changed since it was verified; apply again to regenerate it",
                         retryable=False)
    return Draft(cached[0], taskdir.rubrics_json(cached[0], str(task)), dict(outputs))


def chosen_scenario(ctx: Context, choice: ScenarioChoice, outputs: Any) -> str:
    """The scenario text a choice names; a pick stays with what it chose while that exists."""
    scenarios = list((outputs or {}).get("scenarios") or []) if outputs is not UNKNOWN else []
    if not scenarios:
        raise StepFailed(f"scenario_set.{choice.set} has no scenarios", retryable=False)
    if choice.index is not None:
        if choice.index >= len(scenarios):
            raise StepFailed(f"scenario index {choice.index} is out of range: scenario_set."
                             f"{choice.set} has {len(scenarios)} scenario(s)", retryable=False)
        return str(scenarios[choice.index])
    for address in (ctx.address, owner(ctx.address)):  # a draft keeps what its task chose
        record = ctx.recorded.get(str(address))
        earlier = record.outputs.get("scenario") if record else None
        if earlier in scenarios:
            return str(earlier)
    return str(scenarios[(choice.pick or 0) % len(scenarios)])


def gate_report(gates_found: Mapping[str, list[str]]) -> dict[str, Any]:
    return {g: ("passed" if not gates_found[g] else gates_found[g]) if g in gates_found
            else "not run" for g in GATES}


def _inputs(ctx: Context, settings: TaskSpecSettings, repo: str
            ) -> tuple[TaskInputs, dict[str, str]]:
    competencies = _competencies(ctx, settings)
    try:
        resolution = stacks.resolve(ctx.workspace, competencies, settings.generator.stack)
        table, _ = stacks.load_table(ctx.workspace)
    except TaskformError as exc:
        raise StepFailed(str(exc), retryable=False) from None
    scenario = ""
    if settings.scenario:
        scenario = settings.scenario.text or chosen_scenario(
            ctx, settings.scenario, ctx.outputs(f"scenario_set.{settings.scenario.set}"))
    inputs = TaskInputs(
        repo=repo, competencies=competencies,
        background=_outputs_of(ctx, f"background.{settings.background}"), scenario=scenario,
        scenario_key=key_of(competencies), resolution=resolution,
        minutes=settings.minutes or stacks.minutes_for(table, competencies),
        scaffold=settings.generator.scaffold or resolution.stack.scaffold)
    components = {**_input_components(ctx, settings, resolution),
                  "inputs": digest({k: v for k, v in inputs.__dict__.items()
                                    if k != "resolution"})}
    return inputs, components


def _competencies(ctx: Context, settings: TaskSpecSettings) -> list[dict[str, Any]]:
    return [_outputs_of(ctx, f"competency.{name}") for name in settings.competencies]


def _outputs_of(ctx: Context, address: str) -> dict[str, Any]:
    outputs = ctx.outputs(address)
    if outputs is UNKNOWN or not isinstance(outputs, Mapping):
        raise StepFailed(f"{address} has no recorded outputs (was it applied?)", retryable=False)
    return dict(outputs)


def _input_components(ctx: Context, settings: TaskSpecSettings,
                      resolution: stacks.Resolution) -> dict[str, str]:
    ws = ctx.workspace
    out = prompt_fingerprint(ws, resolution.stack.name)
    table = templates.require(ws, stacks.TABLE, "the prompt-stack table")
    out[f"template:{stacks.TABLE}"] = templates.digest(table)
    provider = settings.generator.provider or ws.config.llm.provider
    if provider == "template":
        out.update(scaffold.fingerprint(ws, settings.generator.scaffold or resolution.stack.scaffold))
    out.update(llm_choice.fingerprint(ws, settings.generator.provider, settings.generator.model))
    return out


def _meta(key: str, generated: Generated, provider: str) -> dict[str, Any]:
    return {"key": key, "passed": generated.passed, "gates": generated.gates,
            "provider": provider, "model": generated.model, "attempts": generated.attempts,
            "usage": generated.usage.as_dict()}


def _gate_failure(generated: Generated, where: str) -> StepFailed:
    failures = generated.failures()
    failed = [g for g in GATES if generated.gates.get(g)]
    lines = [*(f"  {f}" for f in failures),
             f"attempts: {generated.attempts}; usage: {json.dumps(generated.usage.as_dict())}",
             f"the rejected generation is kept in {where}"]
    return StepFailed(f"{len(failed)} quality gate(s) failed ({', '.join(failed)}); the task was "
                      "not published", output="\n".join(lines), retryable=False)


def _outputs(settings: TaskSpecSettings, inputs: TaskInputs, generated: Generated,
             meta: dict[str, Any], rubrics: list[dict[str, Any]]) -> dict[str, Any]:
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
        "competency_refs": list(settings.competencies), "scenario": inputs.scenario,
        "scenario_key": inputs.scenario_key, "stack": inputs.resolution.stack.name,
        "category": inputs.resolution.category, "minutes": inputs.minutes,
        "scaffold": inputs.scaffold if meta["provider"] == "template" else None,
        "provider": meta["provider"], "model": meta["model"], "generation": meta["key"],
        "gates": gate_report(generated.gates),
        "review": generated.review.feedback if generated.review else "",
        "dir": base,
        "files": {"starter": sorted(draft.code_files), "solution": sorted(solution.files),
                  "held_out_tests": sorted(solution.tests)},
        "grading": {**{k: f"{base}/{v}" for k, v in taskdir.GRADING.items()},
                    "starter": f"{base}/starter", "dir": f"{base}/grading",
                    "dockerfile": f"{base}/{taskdir.RECIPE}", "project": f"{base}/{taskdir.PROJECT}",
                    "criteria": len(rubrics), "total_score": sum(r["score"] for r in rubrics)},
        "usage": meta["usage"]}
