"""`TaskPool` document: keeps at least `min_available` ready tasks (generated, gates passed,
not deployed) for a competency set, never more than `max_total`, generating in batches. It
expands into `task` children `task_pool.<name>[<id>]`; ids only grow, so they never restart or
collide, even after a child is destroyed. The pool never destroys a task itself.

The next id is also a fact in the state store (`POOL_NEXT_ID`, keyed by the pool's address):
a pool destroyed and made again, by this runner or another sharing the state, goes on from it.
Plan only reads it (plan changes nothing); apply raises it over every id in use in one
transaction, so it never goes down. Two runners never plan the same new id: apply holds the
state lock from planning to the end, and a saved plan is refused once the state (facts
included) changed since it was made."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import Field, model_validator

from runner.content.catalogue import is_deployed
from runner.content.settings import GeneratorSettings, PublishSettings, VerifySettings
from runner.kinds.base import BaseKind, Child, Context, Expansion, Settings
from runner.state.base import Record, stored_id
from runner.state.facts import POOL_NEXT_ID
from runner.vocabulary import RecordStatus


class TaskPoolSettings(Settings):
    competencies: list[str] = Field(min_length=1, description="Competency names")
    background: str = Field(description="a Background name")
    scenarios: str | None = Field(default=None, description="a ScenarioSet name; children take "
                                  "its scenarios in turn")
    min_available: int = Field(ge=0, description="ready tasks to keep")
    max_total: int = Field(ge=1, description="tasks the pool holds at once, at most")
    batch: int = Field(default=1, ge=1, le=100, description="tasks are added in multiples of it")
    generator: GeneratorSettings = Field(default_factory=GeneratorSettings)
    publish: PublishSettings = Field(default_factory=PublishSettings)
    minutes: str | None = None
    verify: VerifySettings | None = Field(default=None, description="given to every child: "
                                          "`docker` grades each task before it is published")

    @model_validator(mode="after")
    def _bounds(self) -> TaskPoolSettings:
        if self.max_total < self.min_available:
            raise ValueError(f"max_total ({self.max_total}) must be at least min_available "
                             f"({self.min_available})")
        if self.verify is not None and self.verify.deploy is not None:
            raise ValueError("verify: deploy is given per Task (its droplets are its "
                             "dependencies); a TaskPool verifies its tasks with docker")
        return self


def pool_children(pool: str, recorded: Mapping[str, Record]) -> dict[int, Record]:
    """The recorded children of a pool by id."""
    out = {}
    for record in recorded.values():
        if record.parent == pool and record.address.endswith("]"):
            try:
                out[int(record.address.rsplit("[", 1)[1].rstrip("]"))] = record
            except ValueError:
                continue
    return out


def census(pool: str, recorded: Mapping[str, Record]) -> dict[str, list[int]]:
    """Children by state: ready, deployed, failed."""
    out: dict[str, list[int]] = {"ready": [], "deployed": [], "failed": []}
    for key, record in sorted(pool_children(pool, recorded).items()):
        if record.status != RecordStatus.OK:
            out["failed"].append(key)
        elif is_deployed(record.address, recorded):
            out["deployed"].append(key)
        else:
            out["ready"].append(key)
    return out


def to_add(settings: Mapping[str, Any], existing: int, ready: int, pending: int) -> int:
    """How many new children: enough for min_available in whole batches, within max_total."""
    short = int(settings["min_available"]) - ready - pending
    if short <= 0:
        return 0
    batch = int(settings.get("batch") or 1)
    return max(0, min(math.ceil(short / batch) * batch, int(settings["max_total"]) - existing))


class TaskPoolKind(BaseKind):
    name = "task_pool"
    settings_model = TaskPoolSettings

    def references(self, settings: TaskPoolSettings) -> Iterable[str]:
        yield from (f"competency.{c}" for c in settings.competencies)
        yield f"background.{settings.background}"
        if settings.scenarios:
            yield f"scenario_set.{settings.scenarios}"

    def expand(self, ctx: Context, settings: TaskPoolSettings,
               expansion: Expansion) -> list[Child]:
        # children get the settings as written: they render any template themselves
        return self._children(ctx, settings, dict(expansion.raw))

    def _children(self, ctx: Context, model: TaskPoolSettings,
                  settings: dict[str, Any]) -> list[Child]:
        me = str(ctx.address)
        children = pool_children(me, ctx.recorded)
        counts = census(me, ctx.recorded)
        mine = ctx.recorded.get(me)
        next_id = max([int((mine.outputs if mine else {}).get("next_id") or 0),
                       _high_water(ctx), *(k + 1 for k in children)])
        # failed children are retried on every apply: count them as on their way
        new = to_add(model.model_dump(), len(children), len(counts["ready"]),
                     len(counts["failed"]))
        ids = sorted(children) + list(range(next_id, next_id + new))
        return [Child(key=(i,), kind="task", settings=self._child(ctx, settings, i)) for i in ids]

    def _child(self, ctx: Context, settings: dict[str, Any], key: int) -> dict[str, Any]:
        publish = dict(settings.get("publish") or {})
        publish["repo"] = f"{publish.get('repo') or ctx.address.parts[-1]}-{key}"
        child: dict[str, Any] = {"competencies": settings["competencies"],
                                 "background": settings["background"], "publish": publish}
        if settings.get("generator"):
            child["generator"] = settings["generator"]
        if settings.get("scenarios"):
            child["scenario"] = {"set": settings["scenarios"], "pick": key}
        if settings.get("minutes"):
            child["minutes"] = settings["minutes"]
        if settings.get("verify"):
            child["verify"] = settings["verify"]
        return child

    def apply(self, ctx: Context, settings: TaskPoolSettings, prior: Record | None) -> dict[str, Any]:
        """Runs after its children: records the ids in use and the highest one ever given."""
        me = str(ctx.address)
        ids = [int(c.key[0]) for c in self._children(ctx, settings, settings.model_dump())]
        deployed = [i for i in ids if is_deployed(f"{me}[{i}]", ctx.recorded)]
        ready = [i for i in ids if i not in deployed
                 and isinstance(ctx.outputs(f"{me}[{i}]"), Mapping)]
        in_use = max([int((prior.outputs if prior else {}).get("next_id") or 0),
                      *(i + 1 for i in ids)])
        next_id = ctx.facts.next_id(POOL_NEXT_ID, me, count=0, floor=in_use)
        ctx.log(f"{len(ready)} ready, {len(deployed)} deployed, {len(ids)} in all "
                f"(keeps {settings.min_available} ready, at most {settings.max_total})")
        return {"next_id": next_id, "ids": ids, "ready": ready, "deployed": deployed,
                "available": len(ready), "min_available": settings.min_available,
                "max_total": settings.max_total}


def _high_water(ctx: Context) -> int:
    """The next id remembered in the state: a pool destroyed and made again (its children's
    repositories kept) must not hand out the same ids, and so adopt their repositories."""
    me = str(ctx.address)
    return stored_id(POOL_NEXT_ID, me, ctx.facts.get(POOL_NEXT_ID, me))
