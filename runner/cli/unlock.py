"""`taskform force-unlock`: remove a state lock whose holder is certainly dead."""

from __future__ import annotations

import click

from runner.cli.common import App, confirm, pass_app


@click.command("force-unlock")
@click.argument("lock_id")
@click.option("-force", "--force", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def force_unlock(app: App, lock_id: str, force: bool) -> None:
    """Remove the state lock LOCK_ID (shown in the `state is locked` error).

    Only for a holder that is certainly gone: a live run that loses its lock can corrupt the
    record of what it did. A dead holder is taken over automatically when it ran on this
    machine (SQLite) or whenever its database session ended (PostgreSQL, where force-unlock
    ends the holder's session)."""
    with app.session() as (state, _):
        held = state.current_lock()
        if held is not None and held.lock_id == lock_id:
            confirm(f"Remove {held.describe()}?", force, "force-unlock")
        released = state.force_unlock(lock_id)
    click.echo(f"Removed {released.describe()}.")
