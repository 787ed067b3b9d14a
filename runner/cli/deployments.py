"""`taskform deployments`: list replicas, claim one for a candidate, release it, and look at
(or free) the slots on the droplets."""

from __future__ import annotations

from typing import Any

import click

from runner.cli.common import App, echo_json, json_option, pass_app


@click.group()
def deployments() -> None:
    """Deployed tasks: replicas that candidates claim and release, and droplet slots."""


@deployments.command("list")
@click.argument("deployment", required=False)
@json_option
@pass_app
def list_(app: App, deployment: str | None, as_json: bool) -> None:
    """Every recorded replica (of DEPLOYMENT): ready, claimed (by whom), released (waiting to
    be deployed again) or failed, and where it is."""
    from runner.deploy.replicas import deployment_address, replicas
    from runner.state.facts import StoredFacts

    with app.session() as (state, _):
        wanted = deployment_address(deployment) if deployment else None
        rows = replicas(state.records(), StoredFacts(state), wanted)
    if as_json:
        echo_json([r.as_dict() for r in rows])
        return
    if not rows:
        click.echo("No deployments recorded.")
        return
    width = max(len(r.address) for r in rows)
    for r in rows:
        who = f"{r.holder} since {r.since}" if r.holder else "-"
        pending = "  (a change waits for its release)" if r.pending else ""
        click.echo(f"{r.address:<{width}}  {r.status:<8}  {r.droplet or '-'}:{r.slot}  "
                   f"{r.directory or '-'}  {who}{pending}")
    counts = {s: sum(1 for r in rows if r.status == s) for s in ("ready", "claimed",
                                                                  "released", "failed")}
    click.echo(f"{len(rows)} replica(s): " + ", ".join(f"{n} {s}" for s, n in counts.items()))


@deployments.command("claim")
@click.argument("deployment")
@click.option("--holder", required=True, metavar="ID", help="Who takes it (a candidate, a "
              "session): claiming again with the same holder gives the same replica.")
@json_option
@pass_app
def claim(app: App, deployment: str, holder: str, as_json: bool) -> None:
    """Hand one unclaimed ready replica of DEPLOYMENT to a holder and say where it is. Never the
    same replica twice, also from two processes at once."""
    from runner.deploy.replicas import claim as take
    from runner.state.base import new_run_id
    from runner.state.facts import StoredFacts

    with app.session() as (state, _):
        got = take(state.records(), StoredFacts(state, new_run_id()), deployment, holder)
    if as_json:
        echo_json(got.as_dict())
        return
    _describe(got, f"{got.address} claimed by {holder}")


@deployments.command("release")
@click.argument("target", metavar="REPLICA|DEPLOYMENT")
@click.option("--holder", required=True, metavar="ID", help="The holder that claimed it.")
@json_option
@pass_app
def release(app: App, target: str, holder: str, as_json: bool) -> None:
    """Reset the replica the holder claimed (its reset script, its labelled containers, its
    folder; its slot is kept) and mark it released: the next apply (or watch) deploys it
    again, unclaimed."""
    from runner.deploy.replicas import release as give_back
    from runner.state.base import new_run_id
    from runner.state.facts import StoredFacts

    with app.session() as (state, connections):
        done = give_back(app.workspace, connections, state.records(),
                         StoredFacts(state, new_run_id()), target, holder)
    if as_json:
        echo_json(done.as_dict())
        return
    click.echo(f"{done.address} released by {holder}: reset on droplet {done.droplet} (its "
               f"folder removed, slot {done.slot} kept); the next apply deploys it again")


@deployments.command("leases")
@click.argument("droplets", nargs=-1)
@json_option
@pass_app
def leases(app: App, droplets: tuple[str, ...], as_json: bool) -> None:
    """The slots held on the recorded DROPLETS (all by default), read on the droplets: by
    this workspace or by others sharing the fleet."""
    from runner.deploy.leases import leases as read
    from runner.state.facts import StoredFacts

    with app.session() as (state, connections):
        rows = read(app.workspace, connections, state.records(), StoredFacts(state), droplets)
    if as_json:
        echo_json([r.as_dict() for r in rows])
        return
    if not rows:
        click.echo("No slot is held.")
        return
    for r in rows:
        whose = "this workspace" if r.ours else f"workspace {r.workspace} on {r.host}"
        stale = "" if r.recorded or not r.ours else "  (not recorded here: stale?)"
        click.echo(f"{r.droplet}:{r.slot}  {r.address}  {whose}  since {r.since}  "
                   f"run {r.run}{stale}")


@deployments.command("free")
@click.argument("droplet")
@click.argument("slot", type=click.IntRange(0))
@click.option("--yes", is_flag=True, help="Do it without asking.")
@pass_app
def free(app: App, droplet: str, slot: int, yes: bool) -> None:
    """Free SLOT on DROPLET whoever holds it: for a holder gone for good (a workspace deleted
    with its state). taskform never does this by itself. Refused for a replica recorded here."""
    from runner.cli.common import confirm
    from runner.deploy.leases import free as unhold
    from runner.state.facts import StoredFacts

    confirm(f"Free slot {slot} on droplet {droplet}? Its holder loses it; what it deployed "
            "stays on the droplet.", yes, "free")
    with app.session() as (state, connections):
        gone = unhold(app.workspace, connections, state.records(), StoredFacts(state), droplet,
                      slot)
    click.echo(f"slot {slot} on droplet {droplet} freed; it was held by {gone.address} "
               f"(workspace {gone.workspace} on {gone.host}, since {gone.since})")


def _describe(got: Any, head: str) -> None:
    click.echo(head)
    for key, value in (("task", got.task), ("droplet", f"{got.droplet} ({got.where})"),
                       ("directory", got.directory), ("slot", got.slot),
                       ("deployed at", got.deployed_at)):
        click.echo(f"  {key:<12}{value if value is not None else '-'}")
