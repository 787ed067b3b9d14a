"""`taskform state list | show ADDR | rm ADDR... | history`: read and edit the recorded state."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from runner.state.base import Record

from runner.cli.common import App, echo_json, json_option, lock_option, pass_app, seconds


@click.group()
def state() -> None:
    """Inspect or edit the recorded state."""


@state.command("list")
@click.argument("prefix", required=False)
@json_option
@pass_app
def list_(app: App, prefix: str | None, as_json: bool) -> None:
    """List recorded addresses (optionally under PREFIX) with kind, status and last update."""
    records = _records(app, prefix)
    if as_json:
        echo_json([{"address": r.address, "kind": r.kind, "status": r.status,
                    "updated_at": r.updated_at, "run_id": r.run_id} for r in records])
        return
    if not records:
        click.echo("No resources recorded." if not prefix else f"Nothing recorded under {prefix}.")
        return
    width = max(len(r.address) for r in records)
    for r in records:
        click.echo(f"{r.address:<{width}}  {r.kind:<14} {r.status:<8} {r.updated_at}")


@state.command()
@click.argument("address")
@click.option("--events", "-n", "events", default=10, show_default=True,
              help="How many history events to show.")
@json_option
@pass_app
def show(app: App, address: str, events: int, as_json: bool) -> None:
    """Show everything recorded for ADDRESS: settings, outputs, status, error and output,
    history."""
    with app.session() as (st, _):
        record = st.records().get(address)
        history = st.events(address=address, limit=events)
    if record is None:
        raise click.ClickException(f"{address} is not in the state (see `taskform state list`)")
    data = {**record.__dict__, "depends_on": list(record.depends_on),
            "events": [e.__dict__ for e in history]}
    if as_json:
        echo_json(data)
        return
    for key in ("address", "kind", "status", "run_id", "created_at", "updated_at", "parent"):
        if data[key]:
            click.echo(f"{key}: {data[key]}")
    if record.depends_on:
        click.echo("depends_on: " + ", ".join(record.depends_on))
    click.echo("settings: " + json.dumps(record.settings, indent=2, default=str))
    click.echo("outputs: " + json.dumps(record.outputs, indent=2, default=str))
    if record.error:
        click.echo("error:\n  " + record.error.replace("\n", "\n  "))
    if record.output:
        click.echo("output:\n  " + record.output.replace("\n", "\n  "))
    if history:
        click.echo("history:")
        for e in history:
            click.echo(f"  {e.ts}  {e.run_id}  {e.event}" + (f": {e.message}" if e.message else ""))


@state.command()
@click.argument("addresses", nargs=-1, required=True)
@lock_option
@pass_app
def rm(app: App, addresses: tuple[str, ...], lock_timeout: str) -> None:
    """Forget ADDRESSES without destroying anything (taskform stops managing them)."""
    from runner.run import locked_run
    from runner.state.base import Event
    from runner.vocabulary import RunStatus

    wait = seconds(lock_timeout, "-lock-timeout")
    with app.session() as (st, _), locked_run(st, "state rm", wait) as run:
        records = st.records()
        missing = [a for a in addresses if a not in records]
        if missing:
            raise click.ClickException(f"not in the state: {', '.join(missing)}")
        for address in addresses:
            st.remove(address, Event(run_id=run.run_id, event="forgotten", address=address,
                                     message="removed from state by `taskform state rm`"))
            click.echo(f"Forgot {address} (nothing was destroyed).")
        run.status = RunStatus.OK


@state.command()
@click.option("--limit", default=20, show_default=True)
@json_option
@pass_app
def history(app: App, limit: int, as_json: bool) -> None:
    """List recent runs: who ran what, when, and how it ended."""
    with app.session() as (st, _):
        runs = st.runs(limit)
    if as_json:
        echo_json(runs)
        return
    for r in runs:
        summary = ", ".join(f"{v} {k}" for k, v in r["summary"].items() if v)
        click.echo(f"{r['started_at']}  {r['id']}  {r['command']:<8} {r['status']:<11} "
                   f"{r['user']}@{r['host']}" + (f"  ({summary})" if summary else ""))


def _records(app: App, prefix: str | None) -> list[Record]:
    from runner.address import parse_address

    with app.session() as (st, _):
        records = sorted(st.records().values(), key=lambda r: r.address)
    if prefix:
        try:
            pattern = parse_address(prefix)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="PREFIX") from None
        records = [r for r in records if parse_address(r.address).matches(pattern)]
    return records
