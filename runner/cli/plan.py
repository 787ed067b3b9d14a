"""`taskform plan`: what apply would change, and why. Changes nothing."""

from __future__ import annotations

from pathlib import Path

import click

from runner.cli.common import App, echo_json, json_option, pass_app, plan_options, selection_options


@click.command()
@selection_options
@click.option("-destroy", "--destroy", "destroy_all", is_flag=True,
              help="Plan to destroy everything in scope.")
@click.option("-refresh", "--refresh", type=click.BOOL, default=True, metavar="BOOL",
              help="Observe the real world for drift first (default true; -refresh=false skips).")
@click.option("-out", "--out", "out", type=click.Path(dir_okay=False), metavar="FILE",
              help="Save the plan; `taskform apply FILE` then applies exactly it.")
@click.option("-detailed-exitcode", "--detailed-exitcode", "detailed", is_flag=True,
              help="Exit 0 with no changes, 1 on error, 2 when there are changes.")
@click.option("--preview-scenarios", "ask_model", is_flag=True,
              help="Preview the scenarios a model would generate too (calls it); the offline "
              "provider's preview is always shown.")
@json_option
@pass_app
def plan(app: App, targets: tuple[str, ...], excludes: tuple[str, ...], replace: tuple[str, ...],
         labels: tuple[str, ...], destroy_all: bool, refresh: bool, out: str | None,
         detailed: bool, ask_model: bool, as_json: bool) -> None:
    """Show what apply would create, update, replace or destroy, with the reasons."""
    from runner import plan_json
    from runner.content import preview
    from runner.planning import make_plan, redacted
    from runner.redact import Redactor
    from runner.report.plan_text import render_plan
    from runner.vocabulary import Action

    options = plan_options(targets, excludes, replace, labels, destroy_all)
    ws = app.workspace
    with app.session() as (state, connections):
        planned = make_plan(ws, state, connections, options, refresh=refresh)
        changes = [(c.address, c.kind) for c in planned.plan.changes
                   if c.action in (Action.CREATE, Action.UPDATE, Action.REPLACE)]
        previews = [] if as_json else preview.plan_previews(
            ws, connections, changes, planned.resources, planned.records, ask_model)
    shown = redacted(planned.plan, Redactor(ws.secrets))
    if out:
        plan_json.save(shown, Path(out))
    if as_json:
        echo_json(plan_json.to_json(shown))
    else:
        click.echo(render_plan(shown, color=app.color()), nl=False)
        if previews:
            click.echo(Redactor(ws.secrets).text(preview.render(previews)), nl=False)
        if out:
            click.echo(f"\nSaved the plan to {out}. Apply exactly it with: taskform apply {out}")
    if detailed and shown.has_changes:
        raise click.exceptions.Exit(2)
