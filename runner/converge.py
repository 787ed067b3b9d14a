"""The apply use case, one for `apply`, `destroy` and `watch`: execute a plan inside a held run,
record how the run ended, and gather what the kinds that ran want said afterwards."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from typing import TYPE_CHECKING

from runner.apply import ApplyReport, Executor, Progress
from runner.kinds.registry import KINDS
from runner.planning.reuse import MEMO
from runner.redact import Redactor
from runner.state.base import Event
from runner.vocabulary import Action, RecordStatus, RunStatus, StepStatus

if TYPE_CHECKING:
    from runner.connections import Connections
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
        refresh_memos(state, planned, run.run_id)
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
        refresh_memos(state, planned, run.run_id)
    run.summary = report.summary()
    run.status = report.run_status
    return report


def refresh_memos(state: StateStore, planned: Planned, run_id: str) -> int:
    """Give unchanged resources whose record's memo no longer matches (taskform's rendering
    code was upgraded, say) the memo this plan computed, so later plans take their rendering
    from the record again instead of rendering them on every plan until they change. Only the
    memo changes: the plan found the rest of the fingerprint equal. Returns how many."""
    refreshed = 0
    for change in planned.plan.changes:
        memo = change.fingerprint.get(MEMO) if change.fingerprint else None
        record = planned.records.get(change.address)
        if change.action is not Action.NOOP or memo is None or record is None \
                or record.status != RecordStatus.OK or record.fingerprint.get(MEMO) == memo:
            continue
        state.commit(replace(record, fingerprint={**record.fingerprint, MEMO: memo}),
                     Event(run_id=run_id, event="memo-refreshed", address=change.address))
        refreshed += 1
    return refreshed


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
