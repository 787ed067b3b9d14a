"""`docker_pool`: `pool_size` identical containers (task-sync ignored the size; we honour it).

The pool expands at plan time into one `docker_pool_member` per index, so the plan lists every
member and a new size plans only the difference. The pool itself runs after its members and
outputs `members`: `[{index, container_id, container_name, image_id}, ...]` in index order.

A pool may span several engines (`engines: [local, lab-1]`): member `i` is made on
`engines[i % len(engines)]` and records that engine's name (`engine`, absent for the
workspace's own), which is how a grading pool grows past one machine."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from runner.address import NAME_PATTERN
from runner.kinds.base import Child, Context, Expansion
from runner.kinds.docker_run import (
    ContainerSettings,
    container_spec,
    ensure_container,
    observe_container,
    remove_container,
)
from runner.kinds.engines import ENGINE_HELP, OnEngine, image_fingerprint
from runner.providers.docker.engine import observing
from runner.state.base import Record
from runner.vocabulary import Observation

MEMBER_KIND = "docker_pool_member"


class DockerPoolSettings(ContainerSettings):
    pool_size: int = Field(ge=0, le=256, description="how many identical containers")
    keep_forever: bool = Field(default=True, description="pool members keep running for exec "
                               "(`sleep infinity` under --init when no command is given)")
    engines: list[Annotated[str, Field(pattern=NAME_PATTERN)]] | None = Field(
        default=None, min_length=1, description="engines the members are spread over, in turn "
        "(member i on engines[i % n]); each is " + ENGINE_HELP.removeprefix("the Docker engine: "))

    @field_validator("engines")
    @classmethod
    def _distinct(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("names an engine twice")
        return value

    @model_validator(mode="after")
    def _one_way(self) -> DockerPoolSettings:
        if self.engines is not None and "engine" in self.model_fields_set:
            raise ValueError("give engine (one) or engines (several), not both")
        return self

    def engine_names(self) -> list[str]:
        return list(self.engines) if self.engines is not None else [self.engine]


class DockerPoolKind(OnEngine):
    name = "docker_pool"
    settings_model = DockerPoolSettings

    def expand(self, ctx: Context, settings: DockerPoolSettings,
               expansion: Expansion) -> list[Child] | None:
        # the members render the settings as written (an image id not built yet, say)
        raw = {k: v for k, v in expansion.raw.items() if k not in ("pool_size", "engines")}
        raw.setdefault("keep_forever", True)
        engines = settings.engines
        return [Child(key=(i,), kind=MEMBER_KIND, settings={
                    **raw, "index": i, **({"engine": engines[i % len(engines)]} if engines else {})})
                for i in range(settings.pool_size)]

    def apply(self, ctx: Context, settings: DockerPoolSettings, prior: Record | None) -> dict[str, Any]:
        members = []
        for i in range(settings.pool_size):
            out = ctx.outputs(str(ctx.address.child(i))) or {}
            member = {"index": i, "container_id": out.get("container_id"),
                      "container_name": out.get("container_name"),
                      "image_id": out.get("image_id")}
            members.append({**member, "engine": out["engine"]} if out.get("engine") else member)
        return {"members": members, "pool_size": settings.pool_size}


class PoolMemberSettings(ContainerSettings):
    index: int = Field(ge=0)


class DockerPoolMemberKind(OnEngine):
    """One container of a pool: `pipeline.<p>.<pool>[<index>]`."""

    name = MEMBER_KIND
    settings_model = PoolMemberSettings

    def fingerprint(self, ctx: Context, settings: PoolMemberSettings) -> dict[str, str]:
        with observing():
            return image_fingerprint(ctx, settings.engine, settings.image_id, settings.image_tag)

    def observe(self, ctx: Context, record: Record) -> Observation:
        return observe_container(ctx, record)

    def apply(self, ctx: Context, settings: PoolMemberSettings, prior: Record | None) -> dict[str, Any]:
        return ensure_container(ctx, container_spec(ctx, settings, ctx.object_name()),
                                settings.engine)

    def destroy(self, ctx: Context, record: Record) -> None:
        remove_container(ctx, record)

