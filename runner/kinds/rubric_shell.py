"""`rubric_shell`: one grading, one criterion for one solution, made by a rubric step's
expansion (`pipeline.<p>.<step>["<criterion>","<solution>"]`).

It borrows a container from the pool's lease, runs the grading script (reset to pristine,
setup, the solution patch, the held-out tests after it, the command as a non-root user under
`timeout -k`) in one exec with a host watchdog, and records the outcome as docs/grading.md's
state contract says. PASS, FAIL, TIMEOUT and a decided ERROR are results; an infrastructure
failure raises (retryable), so the step's `retries` apply. A container whose grading timed out
or broke is discarded and replaced in place, never reused.

Its fingerprint is exactly the cache key's parts (the pool's image ids, the patch files, the
command, the timeout, setup and markers), never the pool's container ids: a replaced container
regrades nothing."""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import Field

from runner.errors import Cancelled, StepFailed, StepTimeout
from runner.kinds.base import BaseKind, Context, Settings, hash_files
from runner.providers.docker.script import run_script
from runner.rubric.cache import cache_key
from runner.rubric.lease import PoolLease, lease, pool_image_ids
from runner.rubric.model import Criterion
from runner.rubric.outcome import GradingOutcome, interpret, parse_report, refused
from runner.rubric.patches import refusal
from runner.rubric.results import CHILD_KIND, grading_outputs
from runner.rubric.script import GradingJob, grading_script
from runner.rubric.status import Markers, Status
from runner.state.base import Record, now_iso

DECIDED_PHASES = ("patch", "tests_patch")  # a patch that does not apply never will
OUTPUT_SLACK = 64 * 1024  # the script's own lines besides the capped output


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
    kill_after: float = Field(default=2.0, ge=0)
    output_limit: int = Field(gt=0)
    markers: MarkerSettings = Field(default_factory=MarkerSettings)
    protected: list[str] = Field(default_factory=list)
    runs: int = Field(default=1, ge=1, le=20)
    require_lockdown: bool = True

    def markers_value(self) -> Markers:
        m = self.markers
        return Markers(m.pass_marker, m.fail_marker, m.timeout_marker)

    def job(self, patch: str | None, tests: str) -> GradingJob:
        return GradingJob(command=self.command, tests_patch=tests, patch=patch,
                          setup=tuple(self.setup), workdir=self.workdir, git_dir=self.git_dir,
                          pristine=self.pristine, expected_tree=self.expected_tree,
                          user=self.user, timeout=self.timeout_seconds,
                          kill_after=self.kill_after, output_limit=self.output_limit)

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
        why = refusal(patch, tests, tuple(settings.protected))
        if why is not None:
            ctx.log(f"ERROR before running: {why}")
            return grading_outputs([refused(why)] * settings.runs,
                                   criterion=settings.criterion_value(),
                                   solution=settings.solution, cache_key=key, started_at=started,
                                   finished_at=now_iso())
        pool = lease(ctx.connections, ctx.docker(), settings.pool, ctx.outputs(settings.pool),
                     settings.require_lockdown)
        attempt = pool.attempt(str(ctx.address))
        runs, container = [], None
        for run in range(settings.runs):
            job = dataclasses.replace(settings.job(patch, tests), watchdog_slack=ctx.workspace
                                      .config.grading.watchdog_slack_seconds)
            outcome, container = self._grade(ctx, pool, job, settings, run + 1)
            runs.append(outcome)
        return grading_outputs(runs, criterion=settings.criterion_value(),
                               solution=settings.solution, cache_key=key, started_at=started,
                               finished_at=now_iso(), attempts=attempt, container=container)

    def _grade(self, ctx: Context, pool: PoolLease, job: GradingJob,
               settings: RubricShellSettings, run: int) -> tuple[GradingOutcome, str]:
        """One run of the script in a borrowed container; the container goes back to the
        pool, or is discarded and replaced when what ran in it cannot be trusted."""
        if not pool.has_free():
            ctx.log(f"waiting for a free container of {pool.pool}")
        member = pool.acquire(ctx.call(), ctx.stopping)
        discard = True
        try:
            ctx.log(f"grading{f' (run {run})' if settings.runs > 1 else ''} in {member.name}")
            result = run_script(ctx.docker(), member.name, grading_script(job), ctx.call(),
                                watchdog=job.watchdog_seconds,
                                limit=job.output_limit + OUTPUT_SLACK)
            if result.stopped == "cancelled":
                raise Cancelled(str(ctx.address))
            if result.stopped == "deadline":
                raise StepTimeout(f"the step's timeout ended the grading in {member.name} "
                                  f"after {result.seconds:.1f}s", output=result.output)
            outcome = interpret(result.output, job, markers=settings.markers_value(),
                                timed_out=result.stopped == "watchdog",
                                host_seconds=result.seconds)
            broken = _is_infrastructure(result.output, outcome)
            discard = broken or outcome.status is Status.TIMEOUT
            if broken:
                raise StepFailed(f"grading in {member.name} failed: {outcome.reason}",
                                 output=outcome.output, exit_code=outcome.exit_code)
            ctx.log(f"{outcome.status}: {outcome.reason} ({outcome.seconds:.2f}s)")
            return outcome, member.name
        finally:
            if discard:
                pool.discard(ctx.owner(), member, ctx.log)
            else:
                pool.release(member)

    def _read(self, ctx: Context, rel: str) -> str:
        path = ctx.path(rel, "patch")
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise StepFailed(f"cannot read {rel}: {exc}", retryable=False) from None


def _is_infrastructure(stdout: str, outcome: GradingOutcome) -> bool:
    """An ERROR the grading itself did not decide: the script died, the reset or setup failed."""
    if outcome.status is not Status.ERROR:
        return False
    report = parse_report(stdout)
    return report is None or report.phase not in DECIDED_PHASES


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
