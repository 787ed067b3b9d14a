"""Execute a Plan: walk its changes in dependency order with a bounded worker pool, commit each
resource the moment it finishes, skip the dependents of a failure, keep going elsewhere.

Interrupts: the first stops starting new work and lets running steps finish; the second
cancels the running steps. Either way, everything finished is already committed."""

from __future__ import annotations

import graphlib
import threading
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from runner import journal
from runner.clock import SYSTEM_CLOCK, Clock
from runner.connections import Connections
from runner.errors import TaskformError
from runner.kinds.contract import Can
from runner.kinds.registry import KINDS, replaces_on_change
from runner.plan import Change, Plan
from runner.planning.evaluate import Evaluator, RecordedOutputs
from runner.redact import Redactor
from runner.resource import Resource
from runner.retirement import Retirements, Retiring, retire
from runner.state.base import INTENTS, Event, Record, StateStore, now_iso
from runner.state.facts import StoredFacts
from runner.step import StepResult, StepRun
from runner.vocabulary import Action, Outcome, RunStatus, StepStatus
from runner.workspace import Workspace

WATCHDOG_GRACE_SECONDS = 5.0


class Progress(Protocol):
    """Where apply reports what it does (a live panel, plain lines, nothing)."""

    def start(self, total: int) -> None: ...
    def add_total(self, more: int) -> None: ...
    def began(self, address: str, action: Action) -> None: ...
    def log(self, address: str, line: str) -> None: ...
    def finished(self, outcome: Outcome) -> None: ...
    def note(self, text: str) -> None: ...
    def close(self) -> None: ...


class SilentProgress:
    """Progress that says nothing (a plan without changes, a test)."""

    def start(self, total: int) -> None: ...
    def add_total(self, more: int) -> None: ...
    def began(self, address: str, action: Action) -> None: ...
    def log(self, address: str, line: str) -> None: ...
    def finished(self, outcome: Outcome) -> None: ...
    def note(self, text: str) -> None: ...
    def close(self) -> None: ...


@dataclass
class ApplyReport:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    interrupted: bool = False

    def count(self, status: StepStatus, action: Action | None = None) -> int:
        return sum(1 for o in self.outcomes.values()
                   if o.status == status and (action is None or o.action is action))

    @property
    def ok(self) -> bool:
        return not self.interrupted and not any(StepStatus(o.status).is_failure
                                                for o in self.outcomes.values())

    @property
    def run_status(self) -> RunStatus:
        """What the history records of the run this report ends."""
        if self.ok:
            return RunStatus.OK
        return RunStatus.INTERRUPTED if self.interrupted else RunStatus.FAILED

    def root_of(self, address: str) -> str:
        """What a blocked change waited on, followed to the change that really failed."""
        seen = {address}
        outcome = self.outcomes.get(address)
        while outcome is not None and outcome.status is StepStatus.BLOCKED and outcome.cause \
                and outcome.cause not in seen:
            address = outcome.cause
            seen.add(address)
            outcome = self.outcomes.get(address)
        return address

    def blocked_by_root(self) -> dict[str, list[str]]:
        """The changes not applied, grouped by the failure that kept them back."""
        groups: dict[str, list[str]] = {}
        for address, outcome in sorted(self.outcomes.items()):
            if outcome.status is StepStatus.BLOCKED:
                groups.setdefault(self.root_of(address), []).append(address)
        return groups

    def summary(self) -> dict[str, int]:
        out = {ed: self.count(StepStatus.DONE, Action(a)) for a, ed in
               (("create", "created"), ("update", "updated"), ("replace", "replaced"),
                ("destroy", "destroyed"))}
        for status in StepStatus:
            if status is not StepStatus.DONE:
                out[status.value] = self.count(status)
        return out


class Executor:
    def __init__(self, ws: Workspace, state: StateStore, connections: Connections, plan: Plan,
                 resources: dict[str, Resource], records: dict[str, Record], run_id: str,
                 progress: Progress, redactor: Redactor, parallelism: int,
                 fail_fast: bool = False, saved_plan: bool = False,
                 clock: Clock = SYSTEM_CLOCK):
        self.state, self.plan, self.resources = state, plan, resources
        self.records = dict(records)
        self.run_id, self.progress, self.redactor = run_id, progress, redactor
        self.parallelism, self.fail_fast, self.saved_plan = parallelism, fail_fast, saved_plan
        self.clock = clock
        self.fresh: dict[str, Any] = {}  # outputs made in this run (unredacted, memory only)
        base = RecordedOutputs(self.records)
        self.evaluator = Evaluator(ws, connections,
                                   lambda a: self.fresh[a] if a in self.fresh else base(a),
                                   redact=redactor.value, recorded=records,
                                   facts=StoredFacts(state, run_id))
        self.report = ApplyReport()
        self.interrupts = 0
        # set: no new work starts, and steps still waiting to begin theirs give up
        self.stop = threading.Event()
        self.cancelling = False
        self.running: dict[Future[StepResult], StepRun] = {}
        self.changes: dict[str, Change] = {}
        self.sorters: list[tuple[graphlib.TopologicalSorter[str], str | None]] = []
        self.owner: dict[str, graphlib.TopologicalSorter[str]] = {}
        self.expanded: set[str] = set()
        self.retirements = Retirements()
        # by parent address: its children's changes that have not begun (Context.not_begun);
        # written by the walk alone, read by steps (one int, under the GIL)
        self.unbegun: Counter[str] = Counter()
        self.parent_of: dict[str, str] = {}

    # -- interrupts (called from the signal handler in the main thread) -------------------

    def interrupt(self) -> None:
        """Called from the signal handler: only count; the walk loop acts on it (a handler that
        printed could deadlock on a lock the interrupted code holds)."""
        self.interrupts += 1

    def _handle_interrupts(self) -> None:
        if self.interrupts >= 1 and not self.stop.is_set():
            self.stop.set()
            self.progress.note("Interrupt received: no new work will start; running steps are "
                               "finishing (interrupt again to cancel them).")
        if self.interrupts >= 2 and not self.cancelling:
            self.cancelling = True
            self.progress.note("Second interrupt: cancelling running steps.")
        if self.cancelling:
            for run in self.running.values():
                run.cancelled.set()

    # -- the walk -------------------------------------------------------------------------

    def run(self) -> ApplyReport:
        self.changes = {c.address: c for c in self.plan.actionable}
        self.progress.start(len(self.changes))
        self._add_sorter(self.changes, parent=None)
        ready: deque[str] = deque()
        pool = ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="apply")
        try:
            while True:
                self._handle_interrupts()
                ready.extend(self._newly_ready())
                while ready and not self.stop.is_set() and len(self.running) < self.parallelism:
                    self._start(pool, ready.popleft(), ready)
                if not self.running:
                    ready.extend(self._newly_ready())
                    if self.stop.is_set() or not ready:
                        break
                    continue
                done, _ = wait(list(self.running), timeout=0.25, return_when=FIRST_COMPLETED)
                for future in done:
                    run = self.running.pop(future)
                    result = future.result()
                    if run.began_work and result.status is StepStatus.NOT_STARTED:
                        self.state.set_fact(INTENTS, run.change.address, None, Event(
                            run_id=self.run_id, event="not-started",
                            address=run.change.address, message="it had not begun its work"))
                    self._finish(run.change, result, self.clock.monotonic() - run.started)
                    self._done(run.change.address, ready)
                self._watchdog()
        finally:
            pool.shutdown(wait=True)
            for address, change in self.changes.items():
                if address not in self.report.outcomes:
                    self.report.outcomes[address] = Outcome(
                        address, change.action, StepStatus.NOT_STARTED, kind=change.kind)
            self.report.interrupted = self.interrupts > 0
            self.progress.close()
        return self.report

    def _add_sorter(self, changes: dict[str, Change], parent: str | None) -> None:
        sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter(self._waits(changes))
        sorter.prepare()
        self.sorters.append((sorter, parent))
        for address, change in changes.items():
            self.owner[address] = sorter
            resource = self.resources.get(address)
            if change.action is not Action.DESTROY and resource and resource.parent:
                self.parent_of[address] = str(resource.parent)
                self.unbegun[self.parent_of[address]] += 1

    def _not_begun(self, parent: str) -> int:
        return self.unbegun.get(parent, 0)

    def _newly_ready(self) -> list[str]:
        return [a for sorter, _ in self.sorters for a in sorter.get_ready()]

    def _done(self, address: str, ready: deque[str]) -> None:
        """Mark a change finished; a parent whose children are all done becomes ready."""
        for retiring in self.retirements.finished(address):
            self._retire(retiring)
        sorter = self.owner[address]
        sorter.done(address)
        if sorter.is_active():
            return
        for entry in [e for e in self.sorters if e[0] is sorter]:
            self.sorters.remove(entry)
            if entry[1] is not None:
                ready.append(entry[1])  # its children are done: now the parent's own apply

    def _start(self, pool: ThreadPoolExecutor, address: str, ready: deque[str]) -> None:
        change = self.changes[address]
        if address in self.parent_of:
            self.unbegun[self.parent_of.pop(address)] -= 1
        blocker = self._blocker(change)
        if blocker:
            self._finish(change, blocker)
            self._done(address, ready)
        elif change.expands and address not in self.expanded:
            self.expanded.add(address)
            self._expand(change, ready)
        else:
            self._submit(pool, change)

    def _expand(self, change: Change, ready: deque[str]) -> None:
        """Plan the children of a parent whose expansion had to wait for its dependencies,
        then apply them before the parent itself."""
        from runner.plan import PlanOptions, plan
        from runner.planning.expand import expand_now
        from runner.planning.observe import observe_all

        address = change.address
        try:
            expanded = expand_now(self.resources[address], self.evaluator)
            parent = expanded.pop(address)
            desired = {a: self.evaluator.evaluate(r) for a, r in expanded.items()}
            recorded = {a: r for a, r in self.records.items() if r.parent == address}
            observed = observe_all([r for a, r in recorded.items() if a in desired],
                                   self.evaluator, expanded, self.parallelism)
            children = plan(desired, recorded, observed, PlanOptions(),
                            replace_on_change=replaces_on_change)
        except TaskformError as exc:
            self._finish(change, StepResult(StepStatus.FAILED, message=str(exc)))
            self._done(address, ready)
            return
        self.resources.update(expanded)
        self.resources[address] = parent
        actionable = {c.address: c for c in children.actionable}
        self.changes.update(actionable)
        self.changes[address] = replace(change, depends_on=tuple(str(d) for d in
                                                                 parent.depends_on))
        self.progress.note(f"{address}: planned {len(desired)} children during apply "
                           f"({len(actionable)} to apply)")
        self.progress.add_total(len(actionable))
        if actionable:
            self._add_sorter(actionable, parent=address)
        else:
            ready.appendleft(address)

    def _waits(self, changes: dict[str, Change]) -> dict[str, set[str]]:
        """What each change waits for: its dependencies' changes; and a resource is destroyed
        (or replaced) only after the removed resources that depended on it are gone."""
        waits: dict[str, set[str]] = {a: set() for a in changes}
        for address, change in changes.items():
            if change.action is Action.DESTROY:
                for dep in change.depends_on:
                    if dep in changes and changes[dep].action in (Action.DESTROY, Action.REPLACE):
                        waits[dep].add(address)
            else:
                waits[address].update(d for d in change.depends_on if d in changes
                                      and changes[d].action is not Action.DESTROY)
        return waits

    def _blocker(self, change: Change) -> StepResult | None:
        if change.action is Action.DESTROY:
            return None
        for dep in change.depends_on:
            outcome = self.report.outcomes.get(dep)
            if outcome and outcome.status in (StepStatus.FAILED, StepStatus.BLOCKED,
                                              StepStatus.CANCELLED):
                why = "failed" if outcome.status == StepStatus.FAILED else "was not applied"
                if outcome.status != StepStatus.CANCELLED and self._is_part(change.address, dep):
                    return StepResult(StepStatus.FAILED, message=f"{dep} {why}: {outcome.message}",
                                      output=outcome.output)
                return StepResult(StepStatus.BLOCKED, message=f"dependency {dep} {why}",
                                  cause=dep)
        return None

    def _is_part(self, address: str, dep: str) -> bool:
        """A child of a kind that `fails_with_children` is part of it: the child's failure is
        the parent's, recorded as such (not only blocked)."""
        parent, child = self.resources.get(address), self.resources.get(dep)
        return bool(parent and child and child.parent == parent.address
                    and KINDS[parent.kind].fails_with_children)

    def _submit(self, pool: ThreadPoolExecutor, change: Change) -> None:
        run = StepRun(change=change, resource=self.resources.get(change.address),
                      record=self.records.get(change.address), evaluator=self.evaluator,
                      run_id=self.run_id, log=self._log, saved_plan=self.saved_plan,
                      stopping=self.stop, clock=self.clock,
                      on_start=self._intent(change), not_begun=self._not_begun)
        self.progress.began(change.address, change.action)
        self.running[pool.submit(run.run)] = run

    def _intent(self, change: Change) -> Callable[[], None] | None:
        """Records, before a kind with side effects acts, that this run began it: a run killed
        before committing the result leaves the intent, and the next plan names it."""
        record = self.records.get(change.address)
        kind = record.kind if change.action is Action.DESTROY and record else change.kind
        if kind in KINDS and not KINDS[kind].side_effects:
            return None
        return lambda: self.state.set_fact(
            INTENTS, change.address, {"run": self.run_id, "action": change.action.value,
                                      "since": now_iso()},
            Event(run_id=self.run_id, event="started", address=change.address,
                  message=f"{change.action.value} started"))

    def _log(self, address: str, line: str) -> None:
        self.progress.log(address, self.redactor.text(line))

    def _watchdog(self) -> None:
        """A step past its deadline that has not stopped by itself is told to cancel."""
        now = self.clock.monotonic()
        for run in self.running.values():
            if run.deadline is not None and now > run.deadline + WATCHDOG_GRACE_SECONDS:
                run.cancelled.set()

    # -- committing -----------------------------------------------------------------------

    def _finish(self, change: Change, result: StepResult, seconds: float = 0.0) -> None:
        outcome = Outcome(change.address, change.action, result.status, seconds=seconds,
                          message=self.redactor.text(result.message),
                          output=self.redactor.text(result.output), attempts=result.attempts,
                          cause=result.cause, kind=change.kind)
        self._commit(change, result, outcome)
        self.report.outcomes[change.address] = outcome
        self.progress.finished(outcome)
        if result.status in (StepStatus.FAILED, StepStatus.CANCELLED) and self.fail_fast \
                and not self.stop.is_set():
            self.stop.set()
            self.progress.note("--fail-fast: no new work will start.")

    def _retire(self, retiring: Retiring) -> None:
        """Remove what a replacement superseded, now that its dependents have finished."""
        address = retiring.address
        ctx = self.evaluator.context_at(self.resources[address].address, run_id=self.run_id,
                                        log=lambda line: self._log(address, line))
        message = retire(ctx, retiring)
        if message:
            self.progress.note(f"{address}: {self.redactor.text(message)}")
            self.state.append(Event(run_id=self.run_id, event="retire", address=address,
                                    message=self.redactor.text(message)))

    def _refreshed(self, change: Change, result: StepResult) -> Record | None:
        """The record of a deferred change that turned out unchanged, with the memos this apply
        computed when they differ: a dependency's outputs changed where the step does not look
        (a pool's containers, not its image), so its expansion memo must follow them, or every
        later plan expands it again."""
        prior = self.records.get(change.address)
        if result.status != StepStatus.UNCHANGED or prior is None or not result.fingerprint:
            return None
        return journal.with_memos(prior, result.fingerprint)

    def _commit(self, change: Change, result: StepResult, outcome: Outcome) -> None:
        event = Event(run_id=self.run_id, event=result.status, address=change.address,
                      message=outcome.message,
                      data=self.redactor.value({
                          "action": change.action.value, "attempts": result.attempts,
                          **({"output": outcome.output} if outcome.output else {}),
                          **result.data}))
        if result.status in (StepStatus.BLOCKED, StepStatus.UNCHANGED, StepStatus.NOT_STARTED) or (
                result.status == StepStatus.CANCELLED and change.action is Action.DESTROY):
            refreshed = self._refreshed(change, result)
            if refreshed is None:
                self.state.append(event)
            else:
                self.state.commit(refreshed, event)
                self.records[change.address] = refreshed
            if result.status == StepStatus.UNCHANGED:
                self.fresh[change.address] = result.outputs
            return
        if change.action is Action.DESTROY and result.status == StepStatus.DONE:
            self.state.remove(change.address, event)
            self.records.pop(change.address, None)
            return
        prior = self.records.get(change.address)
        resource = self.resources.get(change.address)
        if result.status in (StepStatus.DONE, StepStatus.SKIPPED):
            assert resource is not None
            record = journal.success(change, result, resource, prior, self.run_id, self.redactor)
        else:
            record = journal.failure(change, outcome, resource, prior, self.run_id)
        self.state.commit(record, event)
        self.records[change.address] = record
        if result.status == StepStatus.DONE:
            self.fresh[change.address] = result.outputs
            if prior is not None and change.action in (Action.UPDATE, Action.REPLACE) \
                    and KINDS[record.kind].does(Can.RETIRE):
                for ready in self.retirements.add(change.address, prior, record, self.changes,
                                                  lambda a: a in self.report.outcomes):
                    self._retire(ready)
        elif result.status == StepStatus.SKIPPED:
            self.fresh[change.address] = {}
