"""`taskform destroy`: remove everything taskform made in this workspace (or a selection)."""

from __future__ import annotations

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
@click.option("-auto-approve", "--auto-approve", "auto_approve", is_flag=True,
              help="Do not ask for confirmation.")
@selection_options
@lock_option
@parallelism_option
@click.option("-fail-fast", "--fail-fast", "fail_fast", is_flag=True,
              help="Start no new work after the first failure.")
@click.option("-v", "--verbose", is_flag=True, help="Stream every step's output.")
@json_option
@pass_app
def destroy(app: App, auto_approve: bool, targets: tuple[str, ...], excludes: tuple[str, ...],
            replace: tuple[str, ...], labels: tuple[str, ...], lock_timeout: str,
            parallelism: int | None, fail_fast: bool, verbose: bool,
            as_json: bool) -> None:
    """Destroy every recorded resource in reverse dependency order (or those selected, with
    what depends on them). lifecycle.prevent_destroy blocks it."""
    from runner.cli.execute import execute_planned
    from runner.planning import make_plan
    from runner.run import locked_run

    if replace:
        raise click.UsageError("-replace makes no sense with destroy")
    wait = seconds(lock_timeout, "-lock-timeout")
    ws = app.workspace
    with app.session() as (state, connections), locked_run(state, "destroy", wait) as run:
        planned = make_plan(ws, state, connections,
                            plan_options(targets, excludes, (), labels, destroy_all=True),
                            refresh=False)
        code = execute_planned(app, state, connections, planned, run, auto_approve=auto_approve,
                               parallelism=parallelism, fail_fast=fail_fast, verbose=verbose,
                               saved=False, what="destroy these resources",
                               as_json=as_json)
    if code:
        raise click.exceptions.Exit(code)
