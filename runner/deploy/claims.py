"""Who uses a deployment replica, kept as facts in the state (so every runner sharing the state
sees the same): a candidate's claim, a release waiting for the next apply, and where a replica
was placed before its record could say so.

A claim must never hand one replica to two holders, even when two `claim` commands (or a claim
and an apply about to redeploy the replica) race from separate processes. Each deployed
*generation* of a replica has one ticket counter (`next_id`, atomic in every state backend):
whoever draws ticket 0 owns that generation. A claim draws one and keeps the replica only with
0; an apply about to change an existing replica draws one too, and leaves the replica alone
when it drew anything else (a candidate holds it). A redeploy starts a new generation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runner.state.base import Facts, now_iso

CLAIMS = "deploy.claim"          # replica address -> {holder, since, generation[, released_at]}
TICKETS = "deploy.ticket"        # "<replica address>@<generation>" -> next ticket
PLACEMENT = "deploy.placement"   # replica address -> {droplet, slot, name, lease}


@dataclass(frozen=True)
class Claim:
    holder: str
    since: str
    generation: str
    released_at: str = ""

    @property
    def released(self) -> bool:
        return bool(self.released_at)

    def as_fact(self) -> dict[str, str]:
        fact = {"holder": self.holder, "since": self.since, "generation": self.generation}
        if self.released_at:
            fact["released_at"] = self.released_at
        return fact


def current(facts: Facts, address: str, generation: str) -> Claim | None:
    """The claim on this generation of the replica (a claim on an earlier one is over)."""
    raw = facts.get(CLAIMS, address)
    if not isinstance(raw, Mapping) or str(raw.get("generation")) != generation:
        return None
    return Claim(str(raw.get("holder") or ""), str(raw.get("since") or ""), generation,
                 str(raw.get("released_at") or ""))


def draw(facts: Facts, address: str, generation: str) -> bool:
    """True for the one caller that draws ticket 0 of this generation."""
    return facts.next_id(TICKETS, f"{address}@{generation}") == 0


def take(facts: Facts, address: str, generation: str, holder: str) -> Claim | None:
    """Claim this generation for `holder`; None when someone drew its ticket first."""
    if not draw(facts, address, generation):
        return None
    claim = Claim(holder, now_iso(), generation)
    facts.put(CLAIMS, address, claim.as_fact())
    return claim


def mark_released(facts: Facts, claim: Claim, address: str) -> Claim:
    released = Claim(claim.holder, claim.since, claim.generation, now_iso())
    facts.put(CLAIMS, address, released.as_fact())
    return released


def forget(facts: Facts, address: str) -> None:
    facts.put(CLAIMS, address, None)


def placement(facts: Facts, address: str) -> dict[str, Any] | None:
    raw = facts.get(PLACEMENT, address)
    return dict(raw) if isinstance(raw, Mapping) else None
