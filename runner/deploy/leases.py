"""The slots on droplets as their holders wrote them, for operators: who holds what (this
workspace or another sharing the fleet), and freeing a slot whose holder is gone for good.
taskform never frees another holder's slot by itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from runner.connections import Connections
from runner.deploy import claims, slots
from runner.deploy.endpoint import Droplet, droplet_endpoint, host
from runner.deploy.identity import workspace_id
from runner.deploy.layout import Layout
from runner.errors import TaskformError
from runner.state.base import Facts, Record
from runner.workspace import Workspace


@dataclass(frozen=True)
class Lease:
    droplet: str
    slot: int
    address: str
    workspace: str
    host: str
    run: str
    since: str
    ours: bool          # held by this workspace's state
    recorded: bool      # and a replica recorded in it holds that lease

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def recorded_droplets(records: Mapping[str, Record], names: tuple[str, ...] = ()) -> list[Droplet]:
    found = {r.address.removeprefix("droplet."): r for r in records.values()
             if r.kind == "droplet" and r.outputs.get("host_key")}
    unknown = [n for n in names if n not in found]
    if unknown:
        raise TaskformError(f"no recorded droplet named {', '.join(unknown)}; recorded: "
                            f"{', '.join(sorted(found)) or 'none'}")
    return [Droplet.from_outputs(n, found[n].outputs) for n in (names or sorted(found))]


def leases(ws: Workspace, connections: Connections, records: Mapping[str, Record],
           facts: Facts, names: tuple[str, ...] = ()) -> list[Lease]:
    mine = workspace_id(facts, create=False) or "-"
    held_here = {str(r.outputs.get("lease")) for r in records.values()
                 if r.kind == "deployment_replica" and r.outputs.get("lease")}
    # a Task's deployed check holds its slot only while it runs (or was interrupted)
    held_here |= {str(placed.get("lease")) for r in records.values()
                  if r.kind == "task_deploy" and (placed := claims.placement(facts, r.address))}
    out = []
    for droplet in recorded_droplets(records, names):
        found = host(ws, connections, droplet_endpoint(ws, droplet))
        with found.files() as files:
            held = slots.holders(files, Layout(droplet.remote_dir))
        for n, h in sorted(held.items()):
            out.append(Lease(droplet.name, n, h.address, h.workspace, h.host, h.run, h.since,
                             h.lease.startswith(f"{mine}/"), h.lease in held_here))
    return out


def free(ws: Workspace, connections: Connections, records: Mapping[str, Record], facts: Facts,
         droplet_name: str, slot: int) -> Lease:
    """Free one slot. Refused when a replica recorded in this state holds it: destroy that
    replica instead (it resets what it runs)."""
    for lease in leases(ws, connections, records, facts, (droplet_name,)):
        if lease.slot != slot:
            continue
        if lease.recorded:
            raise TaskformError(f"slot {slot} on droplet {droplet_name} is held by "
                                f"{lease.address}, recorded in this workspace: destroy it "
                                "(or remove it from the specs and apply) instead")
        droplet = recorded_droplets(records, (droplet_name,))[0]
        found = host(ws, connections, droplet_endpoint(ws, droplet))
        with found.files() as files:
            slots.free(files, Layout(droplet.remote_dir), slot)
        return lease
    raise TaskformError(f"slot {slot} on droplet {droplet_name} is free already")
