"""`taskform apply`: converge the real world on the specs (or apply a saved plan)."""

from __future__ import annotations

from pathlib import Path

import click

from runner.cli.common import (
    App,
    json_option,
    lock_option,
    parallelism_option,
    pass_app,
    plan_options,
    seconds,
    selection_options,
)


@click.command()
@click.argument("plan_file", required=False, metavar="[PLAN_FILE]")
@click.option("-auto-approve", "--auto-approve", "auto_approve", is_flag=True,
              help="Do not ask for confirmation.")
@selection_options
@click.option("-refresh", "--refresh", type=click.BOOL, default=True, metavar="BOOL",
              help="Observe the real world for drift first (default true).")
@lock_option
@parallelism_option
@click.option("-fail-fast", "--fail-fast", "fail_fast", is_flag=True,
              help="Start no new work after the first failure.")
@click.option("-v", "--verbose", is_flag=True, help="Stream every step's output.")
@json_option
@pass_app
def apply(app: App, plan_file: str | None, auto_approve: bool, targets: tuple[str, ...],
          excludes: tuple[str, ...], replace: tuple[str, ...], labels: tuple[str, ...],
          refresh: bool, lock_timeout: str, parallelism: int | None, fail_fast: bool,
          verbose: bool, as_json: bool) -> None:
    """Plan, confirm, then create, update, replace and destroy until the world matches the specs.

    With PLAN_FILE (from `plan -out`), apply exactly that plan; it is refused when the state or
    the specs changed since it was made.
    """
    from runner import plan_json
    from runner.cli.execute import execute_planned
    from runner.planning import load_saved, make_plan
    from runner.run import locked_run

    if plan_file and (targets or excludes or replace or labels):
        raise click.UsageError("a saved plan already has its selection; drop -target/-exclude/"
                               "-replace/-l or make a new plan")
    wait = seconds(lock_timeout, "-lock-timeout")
    ws = app.workspace
    with app.session() as (state, connections), locked_run(state, "apply", wait) as run:
        if plan_file:
            planned = load_saved(ws, state, connections, plan_json.load(Path(plan_file)))
        else:
            planned = make_plan(ws, state, connections,
                                plan_options(targets, excludes, replace, labels), refresh=refresh)
        code = execute_planned(app, state, connections, planned, run, auto_approve=auto_approve,
                               parallelism=parallelism, fail_fast=fail_fast, verbose=verbose,
                               saved=bool(plan_file), what="apply these changes",
                               as_json=as_json)
    if code:
        raise click.exceptions.Exit(code)
