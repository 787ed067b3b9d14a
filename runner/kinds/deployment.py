"""`Deployment` document: a task (or a folder) deployed onto a named droplet, or onto droplets
chosen by label with free capacity, as `replicas` ready deployments that candidates claim.

It expands into `deployment.<name>[0..replicas-1]` (`deployment_replica`), each with a slot
of its own. The droplets it may use are its dependencies: a named one, or every Droplet whose
labels include the pool's (found when the specs load). While planning, replicas that still
need a slot are counted against the free slots of those droplets (read on the droplets, once
per run, shared by every deployment of the plan): a pool too small is a plan error saying how
many slots are missing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from runner.address import Selection
from runner.deploy import claims
from runner.deploy.capacity import Ledger
from runner.deploy.settings import DeploymentSettings
from runner.errors import StepFailed
from runner.kinds.base import BaseKind, Child, Context, Expansion
from runner.state.base import Record
from runner.vocabulary import UNKNOWN

# what a replica takes from its deployment's settings (not replicas, droplet, pool: those
# decide which replicas exist and where, and a change of them must not touch every replica)
REPLICA_KEYS = ("task", "source", "overlay", "run", "reset", "health", "timeout", "env")


class DeploymentKind(BaseKind):
    name = "deployment"
    settings_model = DeploymentSettings

    def references(self, settings: DeploymentSettings) -> Iterable[str | Selection]:
        if settings.task:
            yield settings.task
        if settings.droplet:
            yield f"droplet.{settings.droplet}"
        elif settings.pool is not None:
            yield Selection("droplet", tuple(sorted(settings.pool.labels.items())),
                            at=("pool", "labels"))

    def expand(self, ctx: Context, settings: DeploymentSettings,
               expansion: Expansion) -> list[Child]:
        droplets = [d.removeprefix("droplet.") for d in expansion.depends_on
                    if d.startswith("droplet.") and "[" not in d]
        raw = dict(expansion.raw)
        base = {k: raw[k] for k in REPLICA_KEYS if k in raw}
        base["droplets"] = droplets
        base["deployment"] = str(ctx.address)
        children = [Child(key=(i,), kind="deployment_replica", settings=dict(base))
                    for i in range(settings.replicas)]
        self._check_capacity(ctx, settings, droplets)
        return children

    def _check_capacity(self, ctx: Context, settings: DeploymentSettings,
                        droplets: list[str]) -> None:
        me = str(ctx.address)
        needing = [i for i in range(settings.replicas) if not _placed(ctx, f"{me}[{i}]")]
        outputs = [ctx.outputs(f"droplet.{d}") for d in droplets]
        if not needing or any(o is UNKNOWN or not isinstance(o, Mapping) for o in outputs):
            return  # nothing new, or droplets not applied yet: apply finds out
        ledger = ctx.connections.get("deploy", "capacity", Ledger)
        short = ledger.take(ctx.workspace, ctx.connections, dict(zip(droplets, outputs,
                                                                     strict=True)),
                            len(needing))
        if short:
            where = f"droplet {droplets[0]}" if settings.droplet else \
                f"pool {_labels(settings.pool.labels if settings.pool else {})}"
            raise StepFailed(f"{where} has {len(needing) - short} free slot(s) for "
                            f"{len(needing)} new replica(s) of {me}: {short} slot(s) missing "
                            f"({ledger.describe(droplets)})", retryable=False)

    def apply(self, ctx: Context, settings: DeploymentSettings, prior: Record | None
              ) -> dict[str, Any]:
        """Runs after its replicas: where each one is, and which are ready to claim."""
        me = str(ctx.address)
        replicas = []
        for i in range(settings.replicas):
            out = ctx.outputs(f"{me}[{i}]")
            if not isinstance(out, Mapping):
                continue
            claim = claims.current(ctx.facts, f"{me}[{i}]", str(out.get("generation")))
            replicas.append({"address": f"{me}[{i}]", "droplet": out.get("droplet"),
                             "directory": out.get("directory"), "slot": out.get("slot"),
                             "claimed_by": claim.holder if claim else None})
        ready = [r["address"] for r in replicas if r["claimed_by"] is None]
        return {"task": settings.task, "replicas": replicas, "ready": ready,
                "claimed": len(replicas) - len(ready)}


def _placed(ctx: Context, address: str) -> bool:
    record = ctx.recorded.get(address)
    if record is not None and record.outputs.get("droplet"):
        return True
    return claims.placement(ctx.facts, address) is not None


def _labels(labels: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in sorted(labels.items())) + "}"
