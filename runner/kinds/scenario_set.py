"""`ScenarioSet` document: the scenarios of one competency set, under its key (`Java (BASIC),
Kafka (BASIC)`): written in the spec, read from scenario files of the seed's format
(`{"<key>": [...]}`, keys matched ignoring case, spacing and order; a missing key is an error),
and generated through the quality pipeline. Accepted scenarios are its outputs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field

from runner.content import llm_choice, scenario_generation, stacks
from runner.content.generate import top_proficiency
from runner.content.keys import KeyNotFound, find_scenarios, key_of
from runner.content.scenarios import Rejection
from runner.errors import StepFailed, TaskformError
from runner.fingerprint import digest
from runner.kinds.base import BaseKind, Context, Settings, hash_files
from runner.providers.call import Call
from runner.spec.paths import WorkspacePath
from runner.state.base import Record
from runner.state.facts import ACCEPTED_SCENARIOS
from runner.vocabulary import UNKNOWN


class GenerateSettings(Settings):
    count: int = Field(ge=1, le=50, description="how many scenarios must pass the pipeline")
    provider: Literal["template", "openai"] | None = None
    model: str | None = None
    regenerations: int = Field(default=2, ge=0, le=5,
                               description="further rounds with the rejections fed back")


class ScenarioSetSettings(Settings):
    competencies: list[str] = Field(min_length=1, description="Competency names")
    proficiency: Literal["BEGINNER", "BASIC", "INTERMEDIATE", "ADVANCED"] | None = Field(
        default=None, description="use this level for every competency in the key")
    background: str | None = Field(default=None, description="a Background name, for context")
    scenarios: list[str] = Field(default_factory=list, description="scenarios written here")
    files: list[WorkspacePath] = Field(default_factory=list,
                             description="scenario JSON files of the seed's format, by key")
    generate: GenerateSettings | None = None


class ScenarioSetKind(BaseKind):
    name = "scenario_set"
    settings_model = ScenarioSetSettings

    def references(self, settings: ScenarioSetSettings) -> Iterable[str]:
        yield from (f"competency.{c}" for c in settings.competencies)
        if settings.background:
            yield f"background.{settings.background}"

    def fingerprint(self, ctx: Context, settings: ScenarioSetSettings) -> dict[str, str]:
        out = hash_files(ctx, settings.files, "files")
        if settings.generate:
            out.update(_generation_components(ctx, settings))
        return out

    def apply(self, ctx: Context, settings: ScenarioSetSettings,
              prior: Record | None) -> dict[str, Any]:
        competencies = [_outputs_of(ctx, f"competency.{c}") for c in settings.competencies]
        key = key_of(competencies, settings.proficiency)
        try:
            resolution = stacks.resolve(ctx.workspace, competencies)
        except TaskformError as exc:
            raise StepFailed(str(exc), retryable=False) from None
        from_files = [s for f in settings.files for s in _from_file(ctx, f, key)]
        written = [*settings.scenarios, *from_files]
        outputs: dict[str, Any] = {"key": key, "category": resolution.category,
                                   "proficiency": settings.proficiency or
                                   top_proficiency(competencies),
                                   "stack": resolution.stack.name, "static": len(settings.scenarios),
                                   "from_files": len(from_files), "generated": [], "rejected": []}
        if settings.generate:
            outputs.update(self._generated(ctx, settings, competencies, key, resolution, written,
                                           prior))
        outputs["scenarios"] = [*written, *outputs["generated"]]
        return outputs

    def destroy(self, ctx: Context, record: Record) -> None:
        ctx.facts.put(ACCEPTED_SCENARIOS, str(ctx.address), None)

    def _generated(self, ctx: Context, settings: ScenarioSetSettings, competencies: list[dict[str, Any]],
                   key: str, resolution: stacks.Resolution, written: list[str],
                   prior: Record | None) -> dict[str, Any]:
        assert settings.generate is not None
        count = settings.generate.count
        # everything but the count: raising it keeps what exists and generates the rest
        generation = digest({**_generation_components(ctx, settings), "key": key,
                             "competencies": competencies, "background": _background(ctx, settings),
                             "written": written})
        earlier = prior.outputs if prior else {}
        kept = list(earlier.get("generated") or []) \
            if earlier.get("generation") == generation else []
        if len(kept) >= count:
            ctx.log("keeping the scenarios generated earlier from the same inputs")
            return {"generated": kept[:count], "rejected": earlier.get("rejected") or [],
                    "generation": generation, "usage": earlier.get("usage") or {}}
        accepted = kept or _cached(ctx, generation)
        llm = llm_choice.llm_for(ctx.workspace, ctx.connections, settings.generate.provider,
                                   settings.generate.model)
        facts = scenario_generation.facts(ctx.workspace, competencies, settings.proficiency, key,
                                          resolution, _background(ctx, settings))
        outcome = scenario_generation.run(
            ctx.workspace, llm, facts, count=count, written=written, others=_others(ctx),
            accepted=accepted, regenerations=settings.generate.regenerations,
            call=Call(ctx.log, ctx.cancelled))
        _remember(ctx, generation, outcome.accepted)
        rejected = [r.as_dict() for r in outcome.rejected]
        if len(outcome.accepted) < count:
            raise _shortfall(count, outcome.accepted, outcome.rejected, outcome.rounds)
        return {"generated": outcome.accepted, "rejected": rejected, "generation": generation,
                "usage": outcome.usage.as_dict()}


def _outputs_of(ctx: Context, address: str) -> dict[str, Any]:
    outputs = ctx.outputs(address)
    if outputs is UNKNOWN or not isinstance(outputs, dict):
        raise StepFailed(f"{address} has no recorded outputs (was it applied?)", retryable=False)
    return outputs


def _background(ctx: Context, settings: ScenarioSetSettings) -> dict[str, Any]:
    return _outputs_of(ctx, f"background.{settings.background}") if settings.background else {}


def _from_file(ctx: Context, rel: str, key: str) -> list[str]:
    path = ctx.path(rel, "files")
    try:
        table = json.loads(path.read_text())
    except FileNotFoundError:
        raise StepFailed(f"scenario file {rel} does not exist", retryable=False) from None
    except json.JSONDecodeError as exc:
        raise StepFailed(f"{rel}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}",
                         retryable=False) from None
    if not isinstance(table, dict) or not all(isinstance(v, list) for v in table.values()):
        raise StepFailed(f"{rel}: expected an object mapping keys like \"Java (BASIC), Kafka "
                         "(BASIC)\" to lists of scenarios", retryable=False)
    try:
        _, scenarios = find_scenarios(table, key, rel)
    except KeyNotFound as exc:
        raise StepFailed(str(exc), retryable=False) from None
    return [str(s) for s in scenarios]


def _others(ctx: Context) -> list[str]:
    """Every scenario recorded by other scenario sets: generated ones must differ from all."""
    me = str(ctx.address)
    return [str(s) for a, r in ctx.recorded.items() if r.kind == "scenario_set" and a != me
            for s in (r.outputs.get("scenarios") or [])]


def _generation_components(ctx: Context, settings: ScenarioSetSettings) -> dict[str, str]:
    assert settings.generate is not None
    competencies = [_outputs_of(ctx, f"competency.{c}") for c in settings.competencies]
    return scenario_generation.components(ctx.workspace, competencies, settings.generate.provider,
                                          settings.generate.model)


def _cached(ctx: Context, generation: str) -> list[str]:
    """Scenarios accepted by an earlier attempt that did not reach the count: not paid twice.
    A fact in the state, not the record's outputs: a failed apply keeps the last good outputs."""
    data = ctx.facts.get(ACCEPTED_SCENARIOS, str(ctx.address))
    if not isinstance(data, dict) or data.get("generation") != generation:
        return []
    return [str(s) for s in data.get("accepted") or []]


def _remember(ctx: Context, generation: str, accepted: list[str]) -> None:
    ctx.facts.put(ACCEPTED_SCENARIOS, str(ctx.address),
                  {"generation": generation, "accepted": accepted})


def _shortfall(count: int, accepted: list[str], rejected: list[Rejection], rounds: int) -> StepFailed:
    lines = [f"  [{r.stage}] {'; '.join(r.reasons)}: {r.text[:100]!r}" for r in rejected]
    return StepFailed(f"only {len(accepted)} of {count} generated scenario(s) passed the quality "
                      f"pipeline in {rounds} round(s); the accepted ones are kept for the next "
                      "apply", output="\n".join(["rejected:", *lines]), retryable=False)
