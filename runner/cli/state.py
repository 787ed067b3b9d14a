"""`taskform state list | show ADDR | rm ADDR... | history`: read and edit the recorded state."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from runner.state.base import Record
    from runner.workspace_config import StateSettings

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
    data = {**asdict(record), "depends_on": list(record.depends_on),
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


@state.command()
@click.option("--to", "to", required=True, metavar="URL",
              help="postgresql://USER@HOST:PORT/DATABASE, or sqlite:PATH (a file in the "
                   "workspace; sqlite: alone is .taskform/state.db).")
@click.option("--workspace", "name", metavar="NAME",
              help="postgresql: the name to copy under (default: this workspace's name).")
@click.option("--schema", metavar="SCHEMA", help="postgresql: the schema (default: taskform).")
@click.option("--password-variable", "password_variable", metavar="VAR",
              help="postgresql: a declared secret variable holding the password (default: "
                   "PGPASSWORD or ~/.pgpass).")
@click.option("--write-config", "write_config", is_flag=True,
              help="Then point taskform.yaml's state: at the copy.")
@lock_option
@pass_app
def migrate(app: App, to: str, name: str | None, schema: str | None,
            password_variable: str | None, write_config: bool, lock_timeout: str) -> None:
    """Copy the whole state (records, runs, events, facts) to another backend or workspace
    name, under both locks; the source is left as it was."""
    from runner.state import describe, open_store
    from runner.state.migrate import copy_state, state_block, with_state_block

    ws = app.workspace
    settings = _target_settings(app, to, name, schema, password_variable)
    source_is = describe(ws.config.state, ws.name)
    target_is = describe(settings, ws.name)
    if source_is == target_is:
        raise click.UsageError(f"--to names the state itself ({source_is})")
    with app.session() as (source, _):
        target = open_store(ws, settings)
        try:
            copied = copy_state(source, target, lock_timeout=seconds(lock_timeout,
                                                                      "-lock-timeout"))
        finally:
            target.close()
    click.echo(f"Copied {copied.counts()}\n  from {source_is}\n  to   {target_is}.")
    block = state_block(settings.model_dump(by_alias=True, exclude_defaults=True) |
                        {"backend": settings.backend})
    config = ws.root / "taskform.yaml"
    if write_config:
        config.write_text(with_state_block(config.read_text(), block))
        click.echo("taskform.yaml now points at the copy; the source is left as it was.")
    else:
        click.echo("taskform.yaml still points at the source. To use the copy, set:\n\n" + block)


def _target_settings(app: App, to: str, name: str | None, schema: str | None,
                     password_variable: str | None) -> StateSettings:
    from pydantic import ValidationError

    from runner.workspace_config import StateSettings

    ws = app.workspace
    if to.startswith("sqlite:"):
        if name or schema or password_variable:
            raise click.UsageError("--workspace, --schema and --password-variable are for a "
                                   "postgresql:// target")
        raw: dict[str, object] = {"backend": "sqlite",
                                  "path": to.removeprefix("sqlite:") or ".taskform/state.db"}
    else:
        current = ws.config.state
        same_backend = current.backend == "postgresql"
        raw = {"backend": "postgresql", "url": to,
               "workspace": name or (current.workspace if same_backend else None) or ws.name,
               "schema": schema or current.db_schema,
               "password_variable": password_variable or (
                   current.password_variable if same_backend else None)}
    try:
        settings = StateSettings.model_validate({k: v for k, v in raw.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise click.BadParameter(problems, param_hint="--to") from None
    if settings.backend == "sqlite":
        ws.resolve(settings.path, "--to")  # inside the workspace, as state.path must be
    return settings
