"""`task_draft` (internal): the generation half of a `Task`: competencies + background + scenario
-> task JSON, README, starter, solution and grading material, through every quality gate, written
to `.taskform/tasks/<repo>/`. A task verified in Docker expands into one (`task.<name>["draft"]`)
ahead of its grading; a task without verification runs the same `make_draft` in its own apply.
A draft failing a gate raises with the reasons; the rejected generation is kept apart."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from runner.address import Address
from runner.content import exercises, llm_choice, scaffold, stacks, task_outputs, taskdir, templates
from runner.content.generate import (
    Generated,
    TaskInputs,
    generate,
    prompt_fingerprint,
    top_proficiency,
)
from runner.content.keys import key_of
from runner.content.profile import profile_of
from runner.content.settings import REPO_NAME, GeneratorSettings, ScenarioChoice
from runner.errors import StepFailed, TaskformError
from runner.fingerprint import digest
from runner.kinds.base import BaseKind, Context, Settings
from runner.providers.call import Call
from runner.state.base import Record
from runner.vocabulary import UNKNOWN, Observation


class TaskSpecSettings(Settings):
    """What decides a generated task."""

    competencies: list[str] = Field(min_length=1, description="Competency names")
    background: str = Field(description="a Background name")
    scenario: ScenarioChoice | None = None
    generator: GeneratorSettings = Field(default_factory=GeneratorSettings)
    minutes: str | None = Field(default=None, description="time budget; default: stacks.yaml's")


class TaskDraftSettings(TaskSpecSettings):
    repo: str = Field(pattern=REPO_NAME, description="the task's folder and repository name")
    verify: Literal["docker"] | None = Field(default=None, description="how the task verifies it")


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
        draft = make_draft(ctx, settings, settings.repo, owner(ctx.address))
        if settings.verify and draft.generated.profile.grading == "review":
            raise StepFailed(f"{owner(ctx.address)} is graded by review ({draft.outputs['stack']}, "
                             f"scaffold {draft.outputs['scaffold']}): it has no held-out tests for "
                             "`verify: docker` to run; remove verify", retryable=False)
        return draft.outputs

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
    """Of a ScenarioSet, only the chosen scenario decides the task; the droplets of `verify:
    deploy` do not decide it at all."""
    if dependency.startswith("droplet."):
        return None
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
        meta = task_outputs.meta(key, generated, llm.name, inputs)
        if not generated.passed:
            where = taskdir.write_failure(ctx.workspace, repo, generated, meta)
            raise task_outputs.gate_failure(generated, ctx.workspace.relative(where))
    # written even when reused: the grading recipe may be new, or files may have been removed
    taskdir.write(ctx.workspace, repo, generated, str(task), meta)
    rubrics = taskdir.rubrics_json(generated, str(task))
    return Draft(generated, rubrics, task_outputs.outputs(list(settings.competencies), inputs,
                                                         generated, meta, rubrics))


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


def _inputs(ctx: Context, settings: TaskSpecSettings, repo: str
            ) -> tuple[TaskInputs, dict[str, str]]:
    ws = ctx.workspace
    competencies = _competencies(ctx, settings)
    provider = settings.generator.provider or ws.config.llm.provider
    try:
        resolution = stacks.resolve(ws, competencies, settings.generator.stack)
        table, _ = stacks.load_table(ws)
        scaffold_name = settings.generator.scaffold or resolution.stack.scaffold
        profile = profile_of(ws, resolution, provider, scaffold_name)
    except TaskformError as exc:
        raise StepFailed(str(exc), retryable=False) from None
    scenario: str | None = None
    if settings.scenario:
        scenario = settings.scenario.text if settings.scenario.text is not None else \
            chosen_scenario(ctx, settings.scenario,
                            ctx.outputs(f"scenario_set.{settings.scenario.set}"))
    exercise = ""
    if provider == "template":
        exercise, scenario = _exercise(ctx, settings, scaffold_name, scenario, competencies,
                                       resolution, repo)
    inputs = TaskInputs(
        repo=repo, competencies=competencies,
        background=_outputs_of(ctx, f"background.{settings.background}"),
        scenario=scenario or "", scenario_key=key_of(competencies), resolution=resolution,
        minutes=settings.minutes or stacks.minutes_for(table, competencies),
        scaffold=scaffold_name, profile=profile, exercise=exercise,
        conversation=ws.config.llm.conversation if provider != "template" else "single")
    components = {**_input_components(ctx, settings, resolution),
                  "inputs": digest({**{k: v for k, v in inputs.__dict__.items()
                                       if k not in ("resolution", "profile")},
                                    "profile": profile.as_dict()})}
    return inputs, components


def _exercise(ctx: Context, settings: TaskSpecSettings, scaffold_name: str, scenario: str | None,
              competencies: list[dict[str, Any]], resolution: stacks.Resolution,
              repo: str) -> tuple[str, str]:
    """The offline exercise and the scenario the task shows (see `exercises.choose`)."""
    variables = exercises.scenario_variables(competencies, top_proficiency(competencies))
    try:
        choice = exercises.choose(ctx.workspace, scaffold_name, scenario=scenario,
                                  requested=settings.generator.exercise, seed=repo,
                                  variables=variables, category=resolution.category)
    except TaskformError as exc:
        raise StepFailed(str(exc), retryable=False) from None
    return choice.exercise, choice.scenario


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
