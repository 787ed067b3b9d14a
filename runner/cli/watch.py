"""`taskform watch`: plan and apply in a loop (the pool monitor as a reconcile loop). Each cycle
takes the state lock, logs what it did, and a failed cycle does not stop the loop; Ctrl-C (or
SIGTERM) stops it cleanly: during an apply, running steps finish and are recorded first."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from runner.cli.common import App, lock_option, parallelism_option, pass_app, plan_options, seconds


@click.command()
@click.option("-interval", "--interval", default="30s", show_default=True, metavar="DURATION",
              help="Pause between the end of a cycle and the start of the next.")
@click.option("-cycles", "--cycles", type=click.IntRange(1), default=None, metavar="N",
              help="Stop after N cycles (default: until interrupted).")
@click.option("-target", "--target", "targets", multiple=True, metavar="ADDR",
              help="Only this address (or prefix) and what it depends on. Repeatable.")
@click.option("-l", "--label", "labels", multiple=True, metavar="KEY=VALUE",
              help="Only resources whose metadata labels match.")
@lock_option
@parallelism_option
@pass_app
def watch(app: App, interval: str, cycles: int | None, targets: tuple[str, ...],
          labels: tuple[str, ...], lock_timeout: str, parallelism: int | None) -> None:
    """Re-plan and apply every INTERVAL, without asking: keeps task pools topped up and the
    world converged. Exits 0 when stopped by Ctrl-C; with --cycles, 1 if the last cycle failed."""
    import gc

    gc.enable()  # main() pauses the cycle collector for short commands; a loop needs it
    pause = seconds(interval, "-interval")
    wait = seconds(lock_timeout, "-lock-timeout")
    options = plan_options(targets, (), (), labels)
    count, ok = 0, True
    with _stop_on_signals():
        try:
            while cycles is None or count < cycles:
                count += 1
                ok, interrupted = _cycle(app, count, options, wait, parallelism)
                if interrupted:
                    raise KeyboardInterrupt
                if cycles is not None and count >= cycles:
                    break
                _log(f"next cycle in {pause:g}s")
                time.sleep(pause)
        except KeyboardInterrupt:
            _log(f"stopped by interrupt after {count} cycle(s); everything finished is recorded")
            return
    _log(f"stopped after {count} cycle(s)")
    if not ok:
        raise click.exceptions.Exit(1)


def _cycle(app: App, number: int, options: Any, wait: float,
           parallelism: int | None) -> tuple[bool, bool]:
    """One plan-and-apply; returns (succeeded, interrupted). Errors are logged, not raised."""
    from runner.errors import TaskformError

    started = time.monotonic()
    _log(f"cycle {number}: planning")
    try:
        ok, interrupted, summary = _apply(app, options, wait, parallelism)
    except TaskformError as exc:
        _log(f"cycle {number} failed: {exc}")
        return False, False
    took = time.monotonic() - started
    _log(f"cycle {number} {'done' if ok else 'FAILED'} in {took:.1f}s: {summary}")
    return ok, interrupted


def _apply(app: App, options: Any, wait: float,
           parallelism: int | None) -> tuple[bool, bool, str]:
    from runner.cli.common import interrupts
    from runner.converge import converge
    from runner.planning import make_plan
    from runner.report.progress import LineProgress
    from runner.run import locked_run
    from runner.vocabulary import StepStatus

    app = App(workspace_dir=app.workspace_dir, no_color=app.no_color)  # re-read taskform.yaml
    ws = app.workspace
    with app.session() as (state, connections), locked_run(state, "watch", wait) as run:
        planned = make_plan(ws, state, connections, options)
        counts = planned.plan.counts()
        if planned.plan.has_changes:
            _log("plan: " + ", ".join(f"{n} to {a}" for a, n in counts.items()
                                      if n and a != "no-op"))
        report = converge(ws, state, connections, planned, run, progress=LineProgress(),
                          parallelism=parallelism, on_interrupt=interrupts)
        if not planned.plan.has_changes:
            return True, False, f"no changes ({counts['no-op']} resources match the specs)"
        done = ", ".join(f"{n} {k}" for k, n in report.summary().items() if n)
        failed = [f"{o.address}: {o.message}" for o in report.outcomes.values()
                  if o.status == StepStatus.FAILED]
        return report.ok, report.interrupted, done + "".join(f"\n  {f}" for f in failed)


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGTERM stops the loop the way Ctrl-C does."""
    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _log(text: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    click.echo(f"[{stamp}] watch: {text}")
