"""The executor and the step runner on a clock that moves only when they wait: retries back off
by the documented amounts, give up after `retries`, and a step that outlives its deadline is
cancelled by the watchdog, all without sleeping for real."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from kind_kit import register

from runner.apply import WATCHDOG_GRACE_SECONDS, Executor, SilentProgress
from runner.connections import Connections
from runner.errors import StepFailed
from runner.kinds.base import BaseKind, Can, Child, Context, Expansion, Settings
from runner.plan import PlanOptions
from runner.planning import make_plan
from runner.redact import Redactor
from runner.state import open_state
from runner.state.base import Record
from runner.vocabulary import StepStatus
from runner.workspace import open_workspace


class FakeClock:
    """Monotonic time that advances only by what is waited for (or `advance`)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []
        self.lock = threading.Lock()

    def monotonic(self) -> float:
        with self.lock:
            return self.now

    def wait(self, event: threading.Event, seconds: float) -> bool:
        with self.lock:
            self.waits.append(seconds)
            self.now += seconds
        return event.is_set()

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


class FlakySettings(Settings):
    failures: int


class FlakyKind(BaseKind):
    """Fails its first `failures` attempts (counted per address), then succeeds."""

    name = "flaky"
    settings_model = FlakySettings

    def __init__(self) -> None:
        self.attempts: dict[str, int] = {}

    def apply(self, ctx: Context, settings: FlakySettings, prior: Record | None) -> dict[str, Any]:
        seen = self.attempts[str(ctx.address)] = self.attempts.get(str(ctx.address), 0) + 1
        if seen <= settings.failures:
            raise StepFailed(f"attempt {seen} failed")
        return {"attempts": seen}


class HangKind(BaseKind):
    """Never finishes by itself: only a cancellation ends it."""

    name = "hang"
    started = threading.Event()

    def apply(self, ctx: Context, settings: Any, prior: Record | None) -> dict[str, Any]:
        self.started.set()
        ctx.cancelled.wait(30)
        ctx.check_cancelled()
        raise StepFailed("was never cancelled")


def execute(ws: Any, clock: FakeClock, parallelism: int = 4) -> dict[str, Any]:
    workspace = open_workspace(ws.root)
    state, connections = open_state(workspace), Connections()
    try:
        planned = make_plan(workspace, state, connections, PlanOptions())
        executor = Executor(workspace, state, connections, planned.plan, planned.resources,
                            planned.records, "r-test", SilentProgress(),
                            Redactor(workspace.secrets), parallelism, clock=clock)
        return executor.run().outcomes
    finally:
        state.close()


def steps(ws: Any, body: str) -> None:
    ws.spec("apiVersion: taskform/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n  steps:\n"
            + body)


@pytest.mark.parametrize("retries, failures, status, attempts, waits", [
    (3, 2, StepStatus.DONE, 3, [1.0, 2.0]),
    (3, 0, StepStatus.DONE, 1, []),
    (2, 5, StepStatus.FAILED, 3, [1.0, 2.0]),
    (0, 1, StepStatus.FAILED, 1, []),
])
def test_retries_back_off_doubling_from_retry_delay(ws, monkeypatch, retries, failures, status,
                                                    attempts, waits):
    register(monkeypatch, FlakyKind())
    steps(ws, f"    f: {{flaky: {{failures: {failures}}}, retries: {retries}, retry_delay: 1}}\n")
    clock = FakeClock()
    outcome = execute(ws, clock)["pipeline.p.f"]
    assert (outcome.status, outcome.attempts, clock.waits) == (status, attempts, waits)
    if status is StepStatus.FAILED:
        suffix = f" (after {attempts} attempts)" if attempts > 1 else ""
        assert outcome.message == f"attempt {attempts} failed{suffix}"


def test_backoff_is_capped(ws, monkeypatch):
    register(monkeypatch, FlakyKind())
    steps(ws, "    f: {flaky: {failures: 12}, retries: 12, retry_delay: 100}\n")
    clock = FakeClock()
    execute(ws, clock)
    assert clock.waits == [100.0, 200.0] + [300.0] * 10  # MAX_BACKOFF_SECONDS


def test_the_watchdog_cancels_a_step_past_its_deadline_and_grace(ws, monkeypatch):
    kind = HangKind()
    kind.started.clear()
    register(monkeypatch, kind)
    steps(ws, "    h: {hang: {}, timeout: 10}\n")
    clock = FakeClock()
    result: dict[str, Any] = {}
    runner = threading.Thread(target=lambda: result.update(execute(ws, clock)))
    runner.start()
    assert kind.started.wait(10)
    clock.advance(10 + WATCHDOG_GRACE_SECONDS - 1)  # within the grace: left alone
    runner.join(0.6)
    assert runner.is_alive()
    clock.advance(2)  # past it: the next look cancels the step
    runner.join(10)
    assert not runner.is_alive()
    assert result["pipeline.p.h"].status is StepStatus.CANCELLED


class BatchSettings(Settings):
    count: int


class BatchKind(BaseKind):
    """`count` children that each record how many of their siblings had not begun."""

    name = "batch"
    settings_model = BatchSettings

    def expand(self, ctx: Context, settings: BatchSettings, expansion: Expansion) -> list[Child]:
        return [Child(key=(i,), kind="peek", settings={}) for i in range(settings.count)]

    def apply(self, ctx: Context, settings: BatchSettings, prior: Record | None) -> dict[str, Any]:
        return {"not_begun": ctx.not_begun(str(ctx.address))}


class PeekKind(BaseKind):
    name = "peek"

    def apply(self, ctx: Context, settings: Any, prior: Record | None) -> dict[str, Any]:
        return {"not_begun": ctx.not_begun(str(ctx.address.parent))}


def test_a_step_knows_how_many_of_its_siblings_have_not_begun(ws, monkeypatch):
    register(monkeypatch, BatchKind(), Can.EXPAND)
    register(monkeypatch, PeekKind())
    steps(ws, "    b: {batch: {count: 5}}\n    other: {batch: {count: 2}}\n")
    execute(ws, FakeClock(), parallelism=1)
    records = ws.state().records()
    seen = sorted(records[f"pipeline.p.b[{i}]"].outputs["not_begun"] for i in range(5))
    # one at a time: each child sees the siblings still behind it, never the other step's
    assert seen == [0, 1, 2, 3, 4]
    assert records["pipeline.p.b"].outputs["not_begun"] == 0  # its children are all done
    assert sorted(records[f"pipeline.p.other[{i}]"].outputs["not_begun"] for i in range(2)) \
        == [0, 1]


def test_outside_a_run_nobody_knows_what_has_not_begun(ws):
    from runner.address import parse_address
    from runner.workspace import open_workspace

    ctx = Context(open_workspace(ws.root), parse_address("pipeline.p.b[0]"), Connections())
    assert ctx.not_begun("pipeline.p.b") is None
