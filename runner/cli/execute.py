"""Shared by apply and destroy: show the plan, confirm, execute with progress, summarise."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from runner.cli.common import App, confirm, interrupts

if TYPE_CHECKING:
    from runner.apply import ApplyReport
    from runner.plan import Plan
    from runner.planner import Planned
    from runner.providers import Providers
    from runner.report.progress import Progress
    from runner.run import Run
    from runner.state.base import StateStore


def execute_planned(app: App, state: StateStore, providers: Providers, planned: Planned,
                    run: Run, *, auto_approve: bool, parallelism: int | None, fail_fast: bool,
                    verbose: bool, saved: bool, what: str) -> int:
    """Returns the exit code: 0 when everything converged, 1 otherwise."""
    from runner.apply import Executor
    from runner.planner import redacted
    from runner.redact import Redactor
    from runner.report.plan_text import render_plan

    ws = app.workspace
    redactor = Redactor(ws.secrets)
    if run.taken_over:
        click.echo(f"Note: took over a stale lock; {run.taken_over.describe()}", err=True)
    plan = planned.plan
    click.echo(render_plan(redacted(plan, redactor), color=app.color()), nl=False)
    if not plan.has_changes:
        run.status = "ok"
        return 0
    if not saved:
        confirm(f"\nDo you want to {what}?", auto_approve, what)
    click.echo("")
    executor = Executor(ws, state, providers, plan, planned.resources, planned.records, run.run_id, _progress(app, verbose), redactor,
                        parallelism or ws.config.parallelism, fail_fast=fail_fast,
                        saved_plan=saved)
    with interrupts(executor.interrupt):
        report = executor.run()
    run.summary = report.summary()
    run.status = "ok" if report.ok else ("interrupted" if report.interrupted else "failed")
    _summarise(report, what, app.color())
    _grading_tables(state, plan, report, app.color())
    return 0 if report.ok else 1


def _progress(app: App, verbose: bool) -> Progress:
    from runner.report.progress import LineProgress, LiveProgress

    if sys.stdout.isatty() and not verbose:
        from rich.console import Console

        return LiveProgress(Console(no_color=not app.color(), highlight=False))
    return LineProgress(verbose=verbose)


def _summarise(report: ApplyReport, what: str, color: bool) -> None:
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
    failed = [o for o in report.outcomes.values() if o.status in ("failed", "cancelled")]
    for outcome in sorted(failed, key=lambda o: o.address):
        click.echo(f"  {outcome.address}: {outcome.message}")


def _grading_tables(state: StateStore, plan: Plan, report: ApplyReport, color: bool) -> None:
    """The criteria × solutions matrix of every rubric step this apply graded."""
    from runner.report.grading import render_table
    from runner.rubric.results import CHILD_KIND, matrices
    from runner.vocabulary import Action

    graded = {c.parent if c.kind == CHILD_KIND and c.parent else c.address
              for c in plan.actionable if c.action is not Action.DESTROY
              and report.outcomes.get(c.address) is not None
              and report.outcomes[c.address].status in ("done", "failed", "unchanged")}
    shown = [m for m in matrices(state.records()) if m.address in graded]
    if shown:
        click.echo("\n" + render_table(shown, color=color), nl=False)
