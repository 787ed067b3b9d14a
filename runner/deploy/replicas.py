"""Deployment replicas as candidates and operators see them: the list, a claim, a release.
Works on the state (records and facts) and, for a release, on the droplet over SSH."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from runner.address import parse_address
from runner.connections import Connections
from runner.deploy import claims
from runner.deploy.endpoint import Droplet, droplet_endpoint, host
from runner.deploy.lifecycle import Target, reset
from runner.deploy.settings import ReplicaSettings
from runner.errors import ProviderError, StepFailed, TaskformError
from runner.providers.call import Call
from runner.state.base import Facts, Record
from runner.vocabulary import RecordStatus
from runner.workspace import Workspace

REPLICA = "deployment_replica"
STATUSES = ("ready", "claimed", "released", "failed")


@dataclass(frozen=True)
class Replica:
    """One replica: where it is, and who (if anyone) has it."""

    address: str
    deployment: str
    task: str | None
    status: str
    droplet: str
    where: str
    directory: str
    slot: int | None
    holder: str | None
    since: str | None
    deployed_at: str | None
    pending: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def replicas(records: Mapping[str, Record], facts: Facts,
             deployment: str | None = None) -> list[Replica]:
    """Every recorded replica (of one deployment), in address order."""
    out = []
    for _, record in sorted(records.items(), key=lambda item: parse_address(item[0])):
        if record.kind != REPLICA or (deployment and record.parent != deployment):
            continue
        out.append(_replica(record, facts))
    return out


def _replica(record: Record, facts: Facts) -> Replica:
    out = record.outputs or {}
    claim = claims.current(facts, record.address, str(out.get("generation") or ""))
    status = "ready"
    if record.status != RecordStatus.OK or not out.get("ready"):
        status = "failed"
    elif claim is not None:
        status = "released" if claim.released else "claimed"
    where = f"{out.get('user')}@{out.get('address')}:{out.get('port')}" if out else ""
    return Replica(address=record.address, deployment=record.parent or "",
                   task=out.get("task") or (record.settings or {}).get("task"), status=status,
                   droplet=str(out.get("droplet") or ""), where=where,
                   directory=str(out.get("directory") or ""), slot=out.get("slot"),
                   holder=claim.holder if claim else None, since=claim.since if claim else None,
                   deployed_at=out.get("deployed_at"), pending=bool(out.get("pending")))


def deployment_address(text: str) -> str:
    address = text if text.startswith("deployment.") else f"deployment.{text}"
    parsed = parse_address(address)
    if parsed.key or len(parsed.parts) != 2:
        raise TaskformError(f"expected a deployment (deployment.NAME or NAME), got {text!r}")
    return address


def claim(records: Mapping[str, Record], facts: Facts, deployment: str, holder: str
          ) -> Replica:
    """Hand one unclaimed ready replica to `holder` (the one it already has, if any). Two
    claims at once, from any processes sharing the state, never get the same replica."""
    address = deployment_address(deployment)
    found = replicas(records, facts, address)
    if not found and address not in records:
        raise TaskformError(f"{address} is not recorded: apply it first")
    for replica in found:
        if replica.status == "claimed" and replica.holder == holder:
            return replica
    for replica in found:
        if replica.status != "ready":
            continue
        generation = str(records[replica.address].outputs.get("generation") or "")
        if claims.take(facts, replica.address, generation, holder) is not None:
            return _replica(records[replica.address], facts)
    counts = {s: sum(1 for r in found if r.status == s) for s in STATUSES}
    said = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "none recorded"
    raise TaskformError(f"{address} has no unclaimed ready replica ({len(found)} replica(s): "
                        f"{said}); raise its replicas, or release one, and apply (or watch)")


def to_release(records: Mapping[str, Record], facts: Facts, target: str, holder: str
               ) -> tuple[Record, claims.Claim]:
    """The replica `holder` holds: `target` is that replica, or its deployment."""
    parsed = parse_address(target if target.startswith("deployment.") else
                           f"deployment.{target}")
    if parsed.key:
        record = records.get(str(parsed))
        if record is None or record.kind != REPLICA:
            raise TaskformError(f"{parsed} is not a recorded deployment replica")
        candidates = [record]
    else:
        candidates = [records[r.address] for r in replicas(records, facts, str(parsed))]
    for record in candidates:
        claim = claims.current(facts, record.address, str(record.outputs.get("generation")))
        if claim is not None and not claim.released and claim.holder == holder:
            return record, claim
    if parsed.key and candidates:
        other = claims.current(facts, candidates[0].address,
                               str(candidates[0].outputs.get("generation")))
        who = f"claimed by {other.holder} since {other.since}" if other and not \
            other.released else "not claimed"
        raise TaskformError(f"{parsed} is not claimed by {holder}: it is {who}")
    raise TaskformError(f"{holder} holds no replica of {parsed}")


def release(ws: Workspace, connections: Connections, records: Mapping[str, Record],
            facts: Facts, target: str, holder: str, log: Any = None) -> Replica:
    """Reset the replica `holder` holds on its droplet (its folder removed, its slot kept) and
    mark it released: the next apply deploys it again, unclaimed."""
    record, claim = to_release(records, facts, target, holder)
    out = record.outputs
    droplet_record = records.get(f"droplet.{out['droplet']}")
    if droplet_record is None:
        raise TaskformError(f"droplet.{out['droplet']} is not recorded: cannot reach "
                            f"{record.address} to reset it")
    droplet = Droplet.from_outputs(str(out["droplet"]), droplet_record.outputs)
    settings = ReplicaSettings.model_validate(record.settings)
    call = Call(log=log or (lambda line: None), what=record.address)
    try:
        found = host(ws, connections, droplet_endpoint(ws, droplet))
        reset(Target(droplet, found, str(out["name"]), int(out["slot"])), settings, call)
    except ProviderError as exc:
        raise ProviderError(f"droplet.{droplet.name} ({droplet.where}): {exc}") from None
    except StepFailed as exc:
        detail = f"\n{exc.output}" if exc.output else ""
        raise TaskformError(f"{record.address} was not released: {exc.message}{detail}") from None
    claims.mark_released(facts, claim, record.address)
    return _replica(record, facts)
