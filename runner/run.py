"""A run: the state lock held, a run row in the history, released whatever happens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from runner.state.base import Event, LockInfo, RunInfo, StateStore, new_lock_info, new_run_id
from runner.vocabulary import RunStatus

DEAD_RUNS_CHECKED = 1000


@dataclass
class Run:
    run_id: str
    lock: LockInfo
    taken_over: LockInfo | None = None
    status: RunStatus = RunStatus.FAILED
    summary: dict[str, Any] = field(default_factory=dict)


@contextmanager
def locked_run(state: StateStore, command: str, lock_timeout: float) -> Iterator[Run]:
    """Hold the state lock for one run; record its start, end and outcome."""
    run_id = new_run_id()
    info = new_lock_info(run_id, command)
    taken_over = state.acquire_lock(info, lock_timeout)
    run = Run(run_id=run_id, lock=info, taken_over=taken_over)
    try:
        close_dead_runs(state, run_id)
        state.begin_run(RunInfo(run_id=run_id, command=command))
        if taken_over:
            state.append(Event(run_id=run_id, event="lock-taken-over",
                               message=f"previous holder is gone: {taken_over.describe()}"))
        try:
            yield run
        finally:
            state.finish_run(run_id, run.status, run.summary)
    finally:
        state.release_lock(info.lock_id)


def close_dead_runs(state: StateStore, mine: str) -> None:
    """Runs the history still shows running, found by one that now holds the lock: each was
    killed (every run holds the lock while it runs), so it is recorded as interrupted."""
    for row in state.runs(limit=DEAD_RUNS_CHECKED):
        if row["status"] == RunStatus.RUNNING and row["id"] != mine:
            state.finish_run(row["id"], RunStatus.INTERRUPTED,
                             {**(row.get("summary") or {}), "found_by": mine})
