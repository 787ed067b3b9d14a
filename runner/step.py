"""Run one change: render with the outputs known now, check `when`, skip when the inputs turned
out unchanged, then apply (or destroy) with retries, backoff and a deadline."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runner.address import parse_address
from runner.clock import SYSTEM_CLOCK, Clock
from runner.errors import Cancelled, NotStarted, PlanError, StepFailed, StepTimeout, TaskformError
from runner.fingerprint import same
from runner.kinds.contract import Can, Context
from runner.kinds.registry import KINDS
from runner.plan import Change
from runner.planning.evaluate import Evaluator
from runner.resource import Resource
from runner.state.base import Record
from runner.vocabulary import Action, RecordStatus, StepStatus

ERROR_OUTPUT_LIMIT = 8 * 1024
MAX_BACKOFF_SECONDS = 300.0


@dataclass
class StepResult:
    status: StepStatus
    outputs: dict[str, Any] = field(default_factory=dict)
    fingerprint: dict[str, str] | None = None
    rendered: Any = None
    message: str = ""
    output: str = ""
    attempts: int = 1
    data: dict[str, Any] = field(default_factory=dict)
    cause: str | None = None  # blocked by this dependency


@dataclass
class StepRun:
    """One change in flight: its own cancel flag and deadline, watched by the executor."""

    change: Change
    resource: Resource | None
    record: Record | None
    evaluator: Evaluator
    run_id: str
    log: Any
    saved_plan: bool = False
    cancelled: threading.Event = field(default_factory=threading.Event)
    stopping: threading.Event = field(default_factory=threading.Event)  # shared by the run
    deadline: float | None = None
    clock: Clock = SYSTEM_CLOCK
    started: float = -1.0
    # called once, just before the kind first acts on the world (the intent is recorded)
    on_start: Callable[[], None] | None = None
    began_work: bool = False
    not_begun: Callable[[str], int | None] = lambda parent: None  # see Context.not_begun

    def __post_init__(self) -> None:
        if self.started < 0:
            self.started = self.clock.monotonic()

    def _begin_work(self) -> None:
        if not self.began_work:
            self.began_work = True
            if self.on_start is not None:
                self.on_start()

    def run(self) -> StepResult:
        try:
            if self.change.action is Action.DESTROY:
                return self._destroy()
            return self._apply()
        except Cancelled:
            return StepResult(StepStatus.CANCELLED, message="cancelled by interrupt")
        except NotStarted:
            return StepResult(StepStatus.NOT_STARTED, message="the run stopped before it began")
        except StepFailed as exc:  # destroy's failures: a result, like apply's
            return self._failed(exc, 1)
        except (PlanError, TaskformError) as exc:
            return StepResult(StepStatus.FAILED, message=str(exc))
        except Exception as exc:  # a bug in a kind must not take the whole apply down
            return StepResult(StepStatus.FAILED, message=f"internal error: {type(exc).__name__}: {exc}",
                              output=traceback.format_exc()[-ERROR_OUTPUT_LIMIT:])

    def _context(self, budget: float | None = None) -> Context:
        """A fresh context and deadline for one attempt; `budget` overrides the timeout as the
        attempt's length (see Kind.time_budget)."""
        resource = self.resource
        timeout = resource.timeout if resource else None
        budget = budget if budget is not None else timeout
        self.deadline = self.clock.monotonic() + budget if budget else None
        address = resource.address if resource else parse_address(self.change.address)
        return Context(workspace=self.evaluator.ws, address=address,
                       connections=self.evaluator.connections, run_id=self.run_id,
                       deadline=self.deadline, timeout=timeout, cancelled=self.cancelled,
                       stopping=self.stopping, log=lambda line: self.log(self.change.address, line),
                       outputs=self.evaluator.outputs, recorded=self.evaluator.recorded,
                       facts=self.evaluator.facts, not_begun=self.not_begun)

    def _destroy(self) -> StepResult:
        assert self.record is not None
        entry = KINDS[self.record.kind]
        if entry.does(Can.DESTROY):
            self._begin_work()
            entry.kind.destroy(self._context(), self.record)
        return StepResult(StepStatus.DONE)

    def _apply(self) -> StepResult:
        resource = self.resource
        assert resource is not None
        rendered = self.evaluator.render(resource)
        model = self.evaluator.model(resource, rendered)
        fingerprint = self.evaluator.fingerprint(resource, rendered)
        if fingerprint is None:
            return StepResult(StepStatus.FAILED, message="inputs are still unknown after their "
                              "dependencies were applied")
        drift = self._changed_since_plan(fingerprint)
        if drift:
            return StepResult(StepStatus.FAILED, message="changed since the plan was made: "
                              + "; ".join(drift) + "; make a new plan")
        record = self.record
        if self.change.deferred and record and same(record.fingerprint, fingerprint) \
                and record.status == RecordStatus.OK:
            return StepResult(StepStatus.UNCHANGED, outputs=record.outputs, fingerprint=fingerprint,
                              rendered=rendered)
        when = self.evaluator.when(resource)
        if when is False:
            return StepResult(StepStatus.SKIPPED, fingerprint=fingerprint, rendered=rendered,
                              message=f"when: {resource.when} is false")
        return self._attempts(resource, model, rendered, fingerprint)

    def _changed_since_plan(self, fingerprint: dict[str, str]) -> list[str]:
        from runner.fingerprint import reasons

        planned = self.change.fingerprint
        if not self.saved_plan or planned is None:
            return []
        mine = {k: v for k, v in fingerprint.items() if not k.startswith("dep:")}
        theirs = {k: v for k, v in planned.items() if not k.startswith("dep:")}
        return reasons(theirs, mine)

    def _attempts(self, resource: Resource, model: Any, rendered: Any,
                  fingerprint: dict[str, str]) -> StepResult:
        entry = KINDS[resource.kind]
        kind = entry.kind
        record = self.record
        destroyed = False
        budget = resource.timeout
        if budget and entry.does(Can.BUDGET):
            budget = kind.time_budget(model, budget)
        attempt = 0
        while True:
            attempt += 1
            ctx = self._context(budget)
            try:
                self._begin_work()
                if self.change.action is Action.REPLACE and record is not None and not destroyed:
                    if entry.does(Can.DESTROY) and not entry.does(Can.RETIRE):
                        kind.destroy(ctx, record)  # a kind that retires removes it after
                    destroyed = True
                prior = record if self.change.action is Action.UPDATE else None
                outputs = kind.apply(ctx, model, prior)
                return StepResult(StepStatus.DONE, outputs=outputs or {}, fingerprint=fingerprint,
                                  rendered=rendered, attempts=attempt)
            except NotStarted:
                if destroyed or attempt > 1:  # something was done: record how it ended
                    raise Cancelled(self.change.address) from None
                raise
            except StepFailed as exc:
                failure = exc
            except (TaskformError, OSError) as exc:
                failure = StepFailed(str(exc))
            if self.deadline is not None and self.clock.monotonic() >= self.deadline \
                    and not isinstance(failure, StepTimeout):
                failure = StepTimeout(f"timed out after {resource.timeout:g}s: {failure.message}",
                                      output=failure.output)
            if not failure.retryable or attempt > resource.retries:
                return self._failed(failure, attempt)
            delay = min(resource.retry_delay * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS)
            self.log(self.change.address, f"attempt {attempt} failed ({failure.message}); "
                     f"retrying in {delay:g}s")
            if self.clock.wait(self.cancelled, delay):
                raise Cancelled(self.change.address)

    def _failed(self, failure: StepFailed, attempts: int) -> StepResult:
        output = failure.output
        if len(output) > ERROR_OUTPUT_LIMIT:
            output = f"[... {len(output) - ERROR_OUTPUT_LIMIT} bytes cut ...]\n" + \
                output[-ERROR_OUTPUT_LIMIT:]
        data: dict[str, Any] = {}
        if failure.exit_code is not None:
            data["exit_code"] = failure.exit_code
        if failure.command:
            data["command"] = failure.command
        status = StepStatus.FAILED
        message = failure.message
        if attempts > 1:
            message += f" (after {attempts} attempts)"
        return StepResult(status, message=message, output=output, attempts=attempts, data=data)
