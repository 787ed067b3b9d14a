"""One run of one grading in a container: borrow it (a fresh sandbox, or a pool member
reused), run the grading script in it under the host's deadlines, read the outcome back from
the output and the results files, and give the container back or throw it away.

A fresh sandbox is always thrown away. A reused container goes back to its pool unless what
ran in it cannot be trusted any more (a timeout, a broken script): then it is replaced.

A verdict other than PASS counts only if the container was still running when the grading
ended: one stopped under it (its engine shutting down, say) decided nothing, and the grading
is an infrastructure failure. When the engine no longer answers, the grading is run again on
another engine of the pool if it spans several (`spanning.py`)."""

from __future__ import annotations

import dataclasses
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from runner.errors import Cancelled, StepFailed, StepTimeout
from runner.providers.call import Call
from runner.providers.docker.engine import DockerEngine
from runner.providers.docker.labels import Owner
from runner.providers.docker.script import exit_code_of, run_script
from runner.rubric.evidence.harness import Canary, harness_tar, new_canary
from runner.rubric.evidence.model import Expectation
from runner.rubric.lease import Member
from runner.rubric.outcome import GradingOutcome, HostView, interpret, parse_report
from runner.rubric.script import RUN_MARKER, GradingJob, grading_script
from runner.rubric.status import Markers, Status

DECIDED_PHASES = ("patch", "tests_patch")  # a patch that does not apply never will
Log = Callable[[str], None]


class Place(Protocol):
    """Where gradings run: a `SandboxSupplier` (fresh) or a `PoolLease` (reuse) on one engine,
    or a `Spanning` over several."""

    pool: str

    def attempt(self, address: str) -> int: ...
    def has_free(self) -> bool: ...
    def try_acquire(self) -> Member | None: ...
    def acquire(self, call: Call, stopping: threading.Event) -> Member: ...
    def release(self, member: Member) -> None: ...
    def discard(self, owner: Owner, member: Member, log: Log) -> None: ...
    def lose(self, member: Member, why: str) -> bool: ...


class EngineLost(StepFailed):
    """The engine a grading ran on stopped answering: what it gave decided nothing.
    `elsewhere`: another engine of the pool is left to grade on."""

    def __init__(self, message: str, *, output: str = "", elsewhere: bool = False):
        super().__init__(message, output=output)
        self.elsewhere = elsewhere


@dataclass(frozen=True)
class Grader:
    """What every run of one grading shares."""

    place: Place
    call: Call
    stopping: threading.Event
    owner: Owner
    log: Log
    markers: Markers
    expectation: Expectation


def grade(grader: Grader, job: GradingJob) -> tuple[GradingOutcome, Member]:
    """The outcome of one run and the container it ran in, run again on another engine of
    the pool while the engine it ran on was lost (`grade_once` for the rest)."""
    while True:
        try:
            return grade_once(grader, job)
        except EngineLost as exc:
            if not exc.elsewhere:
                raise
            grader.log(f"{exc.message}: grading again on another engine")


def grade_once(grader: Grader, job: GradingJob) -> tuple[GradingOutcome, Member]:
    """The outcome of one run and the container it ran in; StepFailed for infrastructure
    failures (retryable; EngineLost when its engine no longer answers), Cancelled and
    StepTimeout for the step's own stops."""
    canary = new_canary()  # a nonce of its own for every run
    job = dataclasses.replace(job, harness=harness_tar(canary), canary=canary.name,
                              results_dir=f"r.{secrets.token_hex(8)}")
    place = grader.place
    if not place.has_free():
        grader.log(f"waiting for a container of {place.pool}")
    member = place.acquire(grader.call, grader.stopping)
    engine = member.engine
    assert engine is not None, "a place lends containers with their engine"
    discard = True
    try:
        grader.log(f"grading in {member.name[:40]}" + (f" on {member.where}" if member.where
                                                        else ""))
        try:
            outcome = _run(grader, engine, member, job, canary)
        except StepFailed as exc:
            if isinstance(exc, StepTimeout) or engine.answers():
                raise
            why = f"{engine.name} no longer answers"
            raise EngineLost(f"grading in {member.name[:40]} failed: {why}", output=exc.output,
                             elsewhere=place.lose(member, why)) from None
        discard = outcome.status is Status.TIMEOUT
        grader.log(f"{outcome.status}: {outcome.reason} ({outcome.seconds:.2f}s)")
        return outcome, member
    finally:
        if discard:
            place.discard(grader.owner, member, grader.log)
        else:
            place.release(member)


def _run(grader: Grader, engine: DockerEngine, member: Member, job: GradingJob,
         canary: Canary) -> GradingOutcome:
    result = run_script(engine, member.name, grading_script(job), grader.call,
                        watchdog=job.watchdog_seconds, limit=job.stream_limit,
                        run_marker=RUN_MARKER.encode() + b"\n", run_limit=job.run_seconds,
                        receiver=member.receiver, exit_code=False)
    if result.stopped == "cancelled":
        raise Cancelled(grader.call.what)
    if result.stopped == "deadline":
        raise StepTimeout(f"the step's timeout ended the grading in {member.name[:40]} "
                          f"after {result.seconds:.1f}s", output=result.output)
    outcome = interpret(result.raw, job, markers=grader.markers,
                        host=HostView(result.stopped, result.seconds, result.run_seconds),
                        expectation=grader.expectation, canary=canary)
    if result.stopped is None and is_infrastructure(result.raw, outcome):
        raise StepFailed(f"grading in {member.name[:40]} failed: {outcome.reason}",
                         output=outcome.output, exit_code=outcome.exit_code)
    if result.stopped is None and outcome.status is not Status.PASS and \
            was_stopped(engine, member):
        raise StepFailed(f"container {member.name[:40]} stopped while it graded: its "
                         f"{outcome.status} decides nothing", output=outcome.output)
    return outcome


def was_stopped(engine: DockerEngine, member: Member) -> bool:
    """Whether the container stopped under a grading that ended by itself (its engine shutting
    down, say): asked only when the verdict would count against the solution. A script run as
    the container's main process ends the container with it: it exits 0 after its report, the
    container stopped under it with a signal's code."""
    if member.receiver is not None and member.receiver.is_main:
        return exit_code_of(engine, member.name, None) != 0
    container = engine.container(member.name)
    return container is None or not container.running


def is_infrastructure(raw: bytes, outcome: GradingOutcome) -> bool:
    """An ERROR the grading itself did not decide: the script died, the reset or setup failed
    (not a refused or unappliable patch, not a tampered test framework)."""
    if outcome.status is not Status.ERROR:
        return False
    report = parse_report(raw)
    return report is None or report.phase not in (*DECIDED_PHASES, "run")
