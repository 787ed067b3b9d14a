"""Which droplet and slot a replica takes: the one it holds (sticky: no reshuffling across
applies), else a free slot on the least loaded droplet it may use, claimed on the droplet."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runner.deploy import slots
from runner.deploy.endpoint import Droplet
from runner.deploy.layout import Layout
from runner.errors import StepFailed
from runner.providers.ssh import Host


@dataclass(frozen=True)
class Placement:
    """Where a replica is: droplet, slot, folder name and the lease it holds the slot by."""

    droplet: str
    slot: int
    name: str
    lease: str

    def as_fact(self) -> dict[str, Any]:
        return {"droplet": self.droplet, "slot": self.slot, "name": self.name,
                "lease": self.lease}

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None) -> Placement | None:
        if not raw or not raw.get("droplet") or raw.get("slot") is None:
            return None
        return cls(str(raw["droplet"]), int(raw["slot"]), str(raw.get("name") or ""),
                   str(raw.get("lease") or ""))


def place(candidates: Sequence[Droplet], open_host: Callable[[Droplet], Host],
          holder: slots.Holder, previous: Placement | None, what: str, hint: int = 0
          ) -> tuple[Droplet, int]:
    """Claim (or keep) a slot for `holder`; StepFailed saying how full each droplet is.
    `hint`: the replica's number. Among droplets equally loaded, replica n tries the n-th first
    (round robin), and there slot n // droplets: replicas of one deployment placed at once
    spread over the pool instead of racing for one droplet's slot 0."""
    by_name = {d.name: d for d in candidates}
    if previous is not None and previous.droplet in by_name:
        droplet = by_name[previous.droplet]
        with open_host(droplet).files() as files:
            slot = slots.claim(files, Layout(droplet.remote_dir), holder, droplet.capacity,
                               prefer=[previous.slot])
        if slot is not None:
            return droplet, slot
    in_use: dict[str, int] = {}
    for droplet in candidates:
        with open_host(droplet).files() as files:
            held = slots.holders(files, Layout(droplet.remote_dir))
        mine = slots.held_by(held, holder.lease)
        if mine is not None:  # a lease an interrupted apply took: it is still ours
            return droplet, mine
        in_use[droplet.name] = sum(1 for n in held if n < droplet.capacity)
    turn = {d.name: (i - hint) % len(candidates) for i, d in enumerate(candidates)}
    order = sorted(candidates, key=lambda d: (in_use[d.name] / d.capacity, turn[d.name]))
    for droplet in order:
        if in_use[droplet.name] >= droplet.capacity:
            continue
        with open_host(droplet).files() as files:
            slot = slots.claim(files, Layout(droplet.remote_dir), holder, droplet.capacity,
                               prefer=[hint // len(candidates) % droplet.capacity])
        if slot is not None:
            return droplet, slot
        in_use[droplet.name] = droplet.capacity  # taken meanwhile (another workspace)
    raise StepFailed(f"no free slot for {what}: " + fullness(candidates, in_use),
                     retryable=False)


def fullness(candidates: Sequence[Droplet], in_use: Mapping[str, int]) -> str:
    return ", ".join(f"{d.name} {in_use.get(d.name, 0)} of {d.capacity} in use"
                     for d in candidates)
