"""The apply use case, one for `apply`, `destroy` and `watch`: execute a plan inside a held run,
record how the run ended, and gather what the kinds that ran want said afterwards."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from runner import journal
from runner.apply import ApplyReport, Executor, Progress
from runner.kinds.registry import KINDS
from runner.planning.evaluate import RecordedOutputs
from runner.planning.expansion_reuse import expansion_memos
from runner.planning.reuse import MEMO
from runner.redact import Redactor
from runner.state.base import Event
from runner.vocabulary import Action, RecordStatus, RunStatus, StepStatus

if TYPE_CHECKING:
    from runner.connections import Connections
    from runner.plan import Change
    from runner.planning import Planned
    from runner.run import Run
    from runner.state.base import Record, StateStore
    from runner.workspace import Workspace

# installs a handler for interrupts (Ctrl-C, SIGTERM) for the duration of the apply
InterruptHook = Callable[[Callable[[], None]], AbstractContextManager[None]]
SUMMARISED = (StepStatus.DONE, StepStatus.FAILED, StepStatus.UNCHANGED)


def converge(ws: Workspace, state: StateStore, connections: Connections, planned: Planned,
             run: Run, *, progress: Progress, parallelism: int | None = None,
             fail_fast: bool = False, saved_plan: bool = False,
             on_interrupt: InterruptHook | None = None) -> ApplyReport:
    """Apply `planned` and set the run's status and summary. A plan without changes is a
    successful run that did nothing."""
    if not planned.plan.has_changes:
        refresh_memos(ws, state, planned, run.run_id)
        run.status = RunStatus.OK
        return ApplyReport()
    executor = Executor(ws, state, connections, planned.plan, planned.resources, planned.records,
                        run.run_id, progress, Redactor(ws.secrets),
                        parallelism or ws.parallelism, fail_fast=fail_fast,
                        saved_plan=saved_plan)
    guard = on_interrupt(executor.interrupt) if on_interrupt else nullcontext()
    with guard:
        report = executor.run()
    if not report.interrupted:
        refresh_memos(ws, state, planned, run.run_id)
    run.summary = report.summary()
    run.status = report.run_status
    return report


def refresh_memos(ws: Workspace, state: StateStore, planned: Planned, run_id: str) -> int:
    """Give unchanged resources whose record's memos no longer match the memos this plan found
    (taskform's rendering code was upgraded, say, or a pool's containers were replaced under a
    grading set that looks only at its image), so later plans take their rendering and their
    expansion from the record again instead of redoing them on every plan until they change.
    Only memos change: the plan found the rest of the fingerprint equal. Returns how many."""
    unchanged = {c.address for c in planned.plan.changes if c.action is Action.NOOP}
    expanded = {str(a) for a, r in planned.resources.items() if r.expansion_reads is not None}
    refreshed = 0
    for change in planned.plan.changes:
        record = planned.records.get(change.address)
        if change.address not in unchanged or record is None or record.status != RecordStatus.OK:
            continue
        if change.fingerprint is record.fingerprint and change.address not in expanded:
            continue  # the plan took the record's fingerprint as it is: memos and all
        memos = _expansion_memos(ws, planned, change, unchanged)
        memo = change.fingerprint.get(MEMO) if change.fingerprint else None
        if memo is not None:
            memos[MEMO] = memo
        updated = journal.with_memos(record, memos)
        if updated is not None:
            state.commit(updated, Event(run_id=run_id, event="memo-refreshed",
                                        address=change.address))
            refreshed += 1
    return refreshed


def _expansion_memos(ws: Workspace, planned: Planned, change: Change,
                     unchanged: set[str]) -> dict[str, str]:
    """The expansion memos of a parent this plan expanded again and found unchanged with every
    child (what it read is what it carries; the outputs it depends on are as recorded)."""
    resource = planned.resources.get(change.address)
    if resource is None or resource.expansion_reads is None or change.fingerprint is None \
            or MEMO not in change.fingerprint:
        return {}
    if any(r.parent == resource.address and a not in unchanged
           for a, r in planned.resources.items()):
        return {}
    return expansion_memos(ws, resource, change.fingerprint[MEMO],
                           RecordedOutputs(planned.records).digest)


def kind_summaries(read_records: Callable[[], Mapping[str, Record]], report: ApplyReport,
                   color: bool) -> list[str]:
    """What kinds with a `summary` in the table say about the resources this apply finished
    (the grading matrix, say), once per summary function. `read_records` is called only when
    there is something to summarise: one changed leaf of 5,000 reads no record."""
    finished: dict[str, list[str]] = {}
    for address, outcome in sorted(report.outcomes.items()):
        if outcome.action is Action.DESTROY or outcome.status not in SUMMARISED:
            continue
        entry = KINDS.get(outcome.kind)
        if entry is not None and entry.summary:
            finished.setdefault(entry.summary, []).append(address)
    if not finished:
        return []
    records = read_records()
    texts = []
    for where, addresses in finished.items():
        module, _, function = where.partition(":")
        text = getattr(importlib.import_module(module), function)(records, addresses, color)
        if text:
            texts.append(text)
    return texts
