"""`taskform gc [--yes]`: list, and with --yes remove, Docker objects labelled as this
workspace's that no state record owns. Nothing without the workspace's label is touched."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from runner.cli.common import App, echo_json, json_option, lock_option, pass_app, seconds

if TYPE_CHECKING:
    from runner.garbage import Orphan


@click.command()
@click.option("--yes", "-y", "yes", is_flag=True, help="Remove what is listed.")
@lock_option
@json_option
@pass_app
def gc(app: App, yes: bool, lock_timeout: str, as_json: bool) -> None:
    """List Docker containers, volumes and images labelled as this workspace's that no state
    record owns (leftovers of crashed runs, old builds, forgotten resources); --yes removes
    them. Objects without this workspace's label are never listed, so never removed."""
    from runner.errors import ProviderError, StepFailed
    from runner.garbage import find_orphans, remove_orphan
    from runner.providers.docker.engine import DockerEngine, engine_address
    from runner.run import locked_run
    from runner.vocabulary import RunStatus

    ws = app.workspace
    address = engine_address(ws.config.docker.host)
    with app.session() as (state, connections), \
            locked_run(state, "gc", seconds(lock_timeout, "-lock-timeout")) as run:
        engine = connections.get("docker", address, lambda: DockerEngine(address))
        try:
            orphans = find_orphans(engine, str(ws.root), state.records())
            if as_json:
                echo_json([o.as_dict() for o in orphans])
            else:
                _show(orphans, yes)
            for orphan in orphans if yes else []:
                remove_orphan(engine, orphan)
                if not as_json:
                    click.echo(f"removed {orphan.what} {orphan.name}")
        except StepFailed as exc:
            raise ProviderError(exc.message) from None
        run.status = RunStatus.OK
        run.summary = {"orphans": len(orphans), "removed": len(orphans) if yes else 0}


def _show(orphans: list[Orphan], yes: bool) -> None:
    if not orphans:
        click.echo("No unowned objects: every labelled container, volume and image of this "
                   "workspace belongs to a recorded resource.")
        return
    click.echo(f"{len(orphans)} labelled object{'s' if len(orphans) != 1 else ''} of this "
               "workspace that no state record owns:")
    for o in orphans:
        click.echo(f"  {o.what:<9} {o.name}  ({o.reason})")
    if not yes:
        click.echo("Run `taskform gc --yes` to remove them.")
