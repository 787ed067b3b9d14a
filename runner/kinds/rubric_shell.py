"""`rubric_shell`: one grading, one criterion for one solution, made by a rubric step's
expansion (`pipeline.<p>.<step>["<criterion>","<solution>"]`).

It refuses a solution patch that changes what a solution may not (`patch_rules`), then runs
the grading in a container (`runner/rubric/grading.py`): a fresh sandbox cloned from the
pool's members and removed afterwards (`isolation: fresh`, the default), or a pool member
reset to pristine (`isolation: reuse`). It records the outcome as docs/grading.md's state
contract says. PASS, FAIL, TIMEOUT and a decided ERROR are results; an infrastructure failure
raises (retryable), so the step's `retries` apply.

Its fingerprint is exactly the cache key's parts (the pool's image ids, the patch files, the
command, the timeout, setup and markers), never the pool's container ids: a replaced container
regrades nothing."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from runner.errors import StepFailed
from runner.kinds.base import BaseKind, Context, Settings, hash_files
from runner.kinds.engines import engine
from runner.providers.docker.labels import Owner
from runner.rubric.cache import cache_key
from runner.rubric.evidence.commands import invocations
from runner.rubric.evidence.model import Expectation
from runner.rubric.grading import EngineLost, Grader, Place, grade
from runner.rubric.lease import lease, members_by_engine, pool_image_ids
from runner.rubric.model import Criterion, Isolation, ResultsFormat
from runner.rubric.outcome import refused
from runner.rubric.patch_rules import PatchRules, refusal
from runner.rubric.results import CHILD_KIND, grading_outputs
from runner.rubric.sandbox import supplier
from runner.rubric.script import GradingJob
from runner.rubric.spanning import Spanning
from runner.rubric.status import Markers
from runner.state.base import Record, now_iso


class CriterionSettings(Settings):
    id: str
    counter: int = 0
    score: float = 0.0
    required: bool = False
    title: str = ""
    text: str = ""


class MarkerSettings(Settings):
    pass_marker: str | None = None
    fail_marker: str | None = None
    timeout_marker: str | None = None


class RubricShellSettings(Settings):
    pool: str = Field(description="the pool's address")
    criterion: CriterionSettings
    command: str
    solution: str
    patch: str | None = Field(description="the solution patch (workspace path); null: original")
    held_out_tests: str
    setup: list[str] = Field(default_factory=list)
    workdir: str = "/app"
    git_dir: str | None = None
    pristine: str = "HEAD"
    expected_tree: str | None = None
    user: str = "grader"
    timeout_seconds: float = Field(gt=0)
    kill_after: float = Field(default=0.25, ge=0)
    output_limit: int = Field(gt=0)
    markers: MarkerSettings = Field(default_factory=MarkerSettings)
    protected: list[str] = Field(default_factory=list)
    solution_paths: list[str] = Field(default_factory=list)
    runs: int = Field(default=1, ge=1, le=20)
    require_lockdown: bool = True
    isolation: Isolation = "fresh"
    results: ResultsFormat = "auto"

    def markers_value(self) -> Markers:
        m = self.markers
        return Markers(m.pass_marker, m.fail_marker, m.timeout_marker)

    def job(self, patch: str | None, tests: str, slack: float) -> GradingJob:
        return GradingJob(command=self.command, tests_patch=tests, patch=patch,
                          setup=tuple(self.setup), workdir=self.workdir, git_dir=self.git_dir,
                          pristine=self.pristine, expected_tree=self.expected_tree,
                          user=self.user, timeout=self.timeout_seconds,
                          kill_after=self.kill_after, output_limit=self.output_limit,
                          watchdog_slack=slack, mode=self.isolation)

    def expectation(self) -> Expectation:
        """What the results must show: found in the command (`auto`), declared, or nothing
        (`markers`: the exit code and markers decide)."""
        if self.results == "markers":
            return Expectation()
        if self.results != "auto":
            return Expectation(declared=self.results)
        return Expectation(tuple(invocations(self.command)))

    def criterion_value(self) -> Criterion:
        c = self.criterion
        return Criterion(id=c.id, counter=c.counter, score=c.score, required=c.required,
                         criterion=c.text, command=self.command, title=c.title)


class RubricShellKind(BaseKind):
    name = CHILD_KIND
    settings_model = RubricShellSettings

    def fingerprint(self, ctx: Context, settings: RubricShellSettings) -> dict[str, str]:
        files = [settings.held_out_tests] + ([settings.patch] if settings.patch else [])
        return hash_files(ctx, files, "patch")

    def dependency_view(self, ctx: Context, settings: RubricShellSettings, dependency: str,
                        outputs: Any) -> Any:
        if dependency == settings.pool:  # which image grades decides, not which container
            return {"image_ids": pool_image_ids(outputs)}
        return outputs

    def apply(self, ctx: Context, settings: RubricShellSettings, prior: Record | None) -> dict[str, Any]:
        patch = self._read(ctx, settings.patch) if settings.patch else None
        tests = self._read(ctx, settings.held_out_tests)
        key = cache_key(image_id=",".join(pool_image_ids(ctx.outputs(settings.pool))),
                        patch=patch, tests_patch=tests, command=settings.command,
                        timeout=settings.timeout_seconds, setup=settings.setup,
                        markers=settings.markers_value())
        reused = _cached(prior, settings, key)
        if reused is not None:
            ctx.log("the recorded result has the same cache key: not graded again")
            return reused
        started = now_iso()
        why = refusal(patch, tests, PatchRules(tuple(settings.protected),
                                               tuple(settings.solution_paths)))
        if why is not None:
            ctx.log(f"ERROR before running: {why}")
            return grading_outputs([refused(why)] * settings.runs,
                                   criterion=settings.criterion_value(),
                                   solution=settings.solution, cache_key=key, started_at=started,
                                   finished_at=now_iso())
        place = self._place(ctx, settings)
        attempt = place.attempt(str(ctx.address))
        grader = Grader(place, ctx.call(), ctx.stopping, ctx.owner(), ctx.log,
                        settings.markers_value(), settings.expectation())
        slack = ctx.workspace.config.grading.watchdog_slack_seconds
        runs, member = [], None
        for run in range(settings.runs):
            if settings.runs > 1:
                ctx.log(f"run {run + 1} of {settings.runs}")
            outcome, member = grade(grader, settings.job(patch, tests, slack))
            runs.append(outcome)
        return grading_outputs(runs, criterion=settings.criterion_value(),
                               solution=settings.solution, cache_key=key, started_at=started,
                               finished_at=now_iso(), attempts=attempt,
                               container=member.name if member else None,
                               engine=member.where if member else None)

    def _place(self, ctx: Context, settings: RubricShellSettings) -> Place:
        """Fresh sandboxes cloned from the pool's members, or the members themselves; over
        every engine the pool's members run on."""
        pool = settings.pool
        groups = members_by_engine(pool, ctx.outputs(pool))
        owner = Owner(str(ctx.workspace.root), pool, ctx.run_id)

        def place_on(where: str | None, spanning: bool = False) -> Place:
            docker = engine(ctx, where)
            if spanning and not docker.answers():
                raise EngineLost(f"{docker.name} does not answer")
            if settings.isolation == "reuse":
                return lease(ctx.connections, docker, pool, groups[where],
                             settings.require_lockdown, where)
            return supplier(ctx.connections, docker, pool, groups[where], owner,
                            settings.workdir, settings.require_lockdown, ctx.log, where,
                            expected=(str(ctx.address.parent), ctx.not_begun))

        if len(groups) == 1:
            return place_on(next(iter(groups)))
        makers = {where: (lambda w=where: place_on(w, spanning=True)) for where in groups}
        return ctx.connections.get("grading-spanning", f"{pool}|{settings.workdir}|"
                                   f"{settings.isolation}",
                                   lambda: Spanning(pool, makers, ctx.log))

    def _read(self, ctx: Context, rel: str) -> str:
        path = ctx.path(rel, "patch")
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise StepFailed(f"cannot read {rel}: {exc}", retryable=False) from None


def _cached(prior: Record | None, settings: RubricShellSettings, key: str) -> dict[str, Any] | None:
    """The recorded result, when only the criterion's description changed (score, text...):
    the same cache key and the same way of running mean the same result."""
    if prior is None or prior.status != "ok" or not isinstance(prior.settings, dict):
        return None
    if prior.outputs.get("cache_key") != key:
        return None
    now = settings.model_dump()
    before = {k: v for k, v in prior.settings.items() if k != "criterion"}
    if before != {k: v for k, v in now.items() if k != "criterion"}:
        return None
    c = settings.criterion
    return {**prior.outputs, "criterion": {"id": c.id, "counter": c.counter, "score": c.score,
                                           "required": c.required, "title": c.title,
                                           "text": c.text}}
