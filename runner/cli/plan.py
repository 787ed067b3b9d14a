"""`taskform plan`: what apply would change, and why. Changes nothing."""

from __future__ import annotations

from pathlib import Path

import click

from runner.cli.common import (
    App,
    echo_plan,
    pass_app,
    plan_format_options,
    plan_options,
    selection_options,
)


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
@plan_format_options
@pass_app
def plan(app: App, targets: tuple[str, ...], excludes: tuple[str, ...], replace: tuple[str, ...],
         labels: tuple[str, ...], destroy_all: bool, refresh: bool, out: str | None,
         detailed: bool, ask_model: bool, output_format: str, title: str, as_json: bool) -> None:
    """Show what apply would create, update, replace or destroy, with the reasons."""
    from runner import plan_json
    from runner.planning import make_plan, redacted
    from runner.redact import Redactor
    from runner.vocabulary import Action

    options = plan_options(targets, excludes, replace, labels, destroy_all)
    ws = app.workspace
    with app.session() as (state, connections):
        planned = make_plan(ws, state, connections, options, refresh=refresh)
        changes = [(c.address, c.kind) for c in planned.plan.changes
                   if c.action in (Action.CREATE, Action.UPDATE, Action.REPLACE)]
        text = output_format == "text" and not as_json
        previews = ""
        if text and any(kind == "scenario_set" for _, kind in changes):
            from runner.content import preview  # only a plan that changes a scenario set

            found = preview.plan_previews(ws, connections, changes, planned.resources,
                                          planned.records, ask_model)
            previews = preview.render(found) if found else ""
    shown = redacted(planned.plan, Redactor(ws.secrets))
    if out:
        plan_json.save(shown, Path(out))
    echo_plan(shown, output_format, as_json, app.color(), title)
    if previews:
        click.echo(Redactor(ws.secrets).text(previews), nl=False)
    if out and text:
        click.echo(f"\nSaved the plan to {out}. Apply exactly it with: taskform apply {out}")
    if detailed and shown.has_changes:
        raise click.exceptions.Exit(2)
