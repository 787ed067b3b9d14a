"""Shared by apply and destroy: show the plan, confirm, execute with progress, summarise."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from runner.cli.common import App, confirm, echo_json, interrupts
from runner.vocabulary import StepStatus

if TYPE_CHECKING:
    from runner.apply import ApplyReport, Progress
    from runner.connections import Connections
    from runner.planning import Planned
    from runner.run import Run
    from runner.state.base import StateStore


def execute_planned(app: App, state: StateStore, connections: Connections, planned: Planned,
                    run: Run, *, auto_approve: bool, parallelism: int | None, fail_fast: bool,
                    verbose: bool, saved: bool, what: str, as_json: bool = False) -> int:
    """Returns the exit code: 0 when everything converged, 1 otherwise."""
    if as_json:
        return _execute_json(app, state, connections, planned, run, auto_approve=auto_approve,
                             parallelism=parallelism, fail_fast=fail_fast, saved=saved,
                             what=what)
    from runner.apply import SilentProgress
    from runner.converge import converge, kind_summaries
    from runner.planning import redacted
    from runner.redact import Redactor
    from runner.report.plan_text import render_plan

    if run.taken_over:
        click.echo(f"Note: took over a stale lock; {run.taken_over.describe()}", err=True)
    plan = planned.plan
    click.echo(render_plan(redacted(plan, Redactor(app.workspace.secrets)), color=app.color()),
               nl=False)
    if plan.has_changes:
        if not saved:
            confirm(f"\nDo you want to {what}?", auto_approve, what)
        click.echo("")
    report = converge(app.workspace, state, connections, planned, run,
                      progress=_progress(app, verbose) if plan.has_changes else SilentProgress(),
                      parallelism=parallelism,
                      fail_fast=fail_fast, saved_plan=saved, on_interrupt=interrupts)
    if not plan.has_changes:
        return 0
    _summarise(report, what, app.color(), verbose)
    for text in kind_summaries(state.records, report, app.color()):
        click.echo("\n" + text, nl=False)
    return 0 if report.ok else 1


def _execute_json(app: App, state: StateStore, connections: Connections, planned: Planned,
                  run: Run, *, auto_approve: bool, parallelism: int | None, fail_fast: bool,
                  saved: bool, what: str) -> int:
    """`--json`: no progress, no question; one JSON document: the plan, then how each change
    ended, and what each failure kept back."""
    from runner.apply import SilentProgress
    from runner.converge import converge
    from runner.plan_json import to_json
    from runner.planning import redacted
    from runner.redact import Redactor

    if planned.plan.has_changes and not (saved or auto_approve):
        from runner.errors import ApplyRefused

        raise ApplyRefused(f"{what} with --json asks no question: pass -auto-approve (or apply a "
                           "saved plan file)")
    report = converge(app.workspace, state, connections, planned, run, progress=SilentProgress(),
                      parallelism=parallelism, fail_fast=fail_fast, saved_plan=saved,
                      on_interrupt=interrupts)
    redactor = Redactor(app.workspace.secrets)
    echo_json({
        "plan": to_json(redacted(planned.plan, redactor)),
        "status": run.status.value, "summary": report.summary(),
        "outcomes": [{"address": o.address, "action": o.action.value, "status": o.status.value,
                      "seconds": round(o.seconds, 3), "message": o.message,
                      "attempts": o.attempts, "blocked_by": o.cause,
                      "root_cause": report.root_of(o.address) if o.cause else None}
                     for o in sorted(report.outcomes.values(), key=lambda o: o.address)],
        "not_applied_because": report.blocked_by_root()})
    return 0 if report.ok else 1


def _progress(app: App, verbose: bool) -> Progress:
    from runner.report.progress import LineProgress, LiveProgress

    if sys.stdout.isatty() and not verbose:
        from rich.console import Console

        return LiveProgress(Console(no_color=not app.color(), highlight=False))
    return LineProgress(verbose=verbose)


def _summarise(report: ApplyReport, what: str, color: bool, verbose: bool) -> None:
    s = report.summary()
    done = (f"{s['created']} created, {s['updated']} updated, {s['replaced']} replaced, "
            f"{s['destroyed']} destroyed")
    extra = [f"{s[k]} {label}" for k, label in (
        ("unchanged", "unchanged"), ("skipped", "skipped by `when`"), ("failed", "failed"),
        ("blocked", "not applied (a dependency failed)"), ("cancelled", "cancelled"),
        ("not-started", "not started")) if s[k]]
    head = "Complete" if report.ok else ("Interrupted" if report.interrupted else "Failed")
    text = f"\n{head}: {done}" + (f"; {', '.join(extra)}" if extra else "") + "."
    click.echo(click.style(text, bold=True, fg=None if report.ok else "red") if color else text)
    groups = report.blocked_by_root()
    failed = [o for o in report.outcomes.values()
              if o.status in (StepStatus.FAILED, StepStatus.CANCELLED)]
    # root causes first: the failures that kept others back, the most consequential first
    for outcome in sorted(failed, key=lambda o: (-len(groups.get(o.address, [])), o.address)):
        first = (outcome.message.strip().splitlines() or [""])[0]
        click.echo(f"  {outcome.address}: {first}")
        blocked = groups.get(outcome.address, [])
        if blocked:
            click.echo(f"    {len(blocked)} resource{'s' if len(blocked) != 1 else ''} not "
                       f"applied because {outcome.address} "
                       f"{'failed' if outcome.status is StepStatus.FAILED else 'was cancelled'}"
                       + (":" if verbose else " (-v lists them)"))
            for address in blocked if verbose else []:
                click.echo(f"      {address}")
