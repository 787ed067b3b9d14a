"""`docker_pool`: `pool_size` identical containers (task-sync ignored the size; we honour it).

The pool expands at plan time into one `docker_pool_member` per index, so the plan lists every
member and a new size plans only the difference. The pool itself runs after its members and
outputs `members`: `[{index, container_id, container_name, image_id}, ...]` in index order."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from runner.kinds.base import BaseKind, Child, Context, Expansion
from runner.kinds.docker_run import (
    ContainerSettings,
    container_spec,
    ensure_container,
    observe_container,
    remove_container,
)
from runner.providers.docker import containers
from runner.providers.docker.engine import observing
from runner.state.base import Record
from runner.vocabulary import Observation

MEMBER_KIND = "docker_pool_member"


class DockerPoolSettings(ContainerSettings):
    pool_size: int = Field(ge=0, le=256, description="how many identical containers")
    keep_forever: bool = Field(default=True, description="pool members keep running for exec "
                               "(`sleep infinity` under --init when no command is given)")


class DockerPoolKind(BaseKind):
    name = "docker_pool"
    settings_model = DockerPoolSettings

    def expand(self, ctx: Context, settings: DockerPoolSettings,
               expansion: Expansion) -> list[Child] | None:
        # the members render the settings as written (an image id not built yet, say)
        raw = {k: v for k, v in expansion.raw.items() if k != "pool_size"}
        raw.setdefault("keep_forever", True)
        return [Child(key=(i,), kind=MEMBER_KIND, settings={**raw, "index": i})
                for i in range(settings.pool_size)]

    def apply(self, ctx: Context, settings: DockerPoolSettings, prior: Record | None) -> dict[str, Any]:
        members = []
        for i in range(settings.pool_size):
            out = ctx.outputs(str(ctx.address.child(i))) or {}
            members.append({"index": i, "container_id": out.get("container_id"),
                            "container_name": out.get("container_name"),
                            "image_id": out.get("image_id")})
        return {"members": members, "pool_size": settings.pool_size}


class PoolMemberSettings(ContainerSettings):
    index: int = Field(ge=0)


class DockerPoolMemberKind(BaseKind):
    """One container of a pool: `pipeline.<p>.<pool>[<index>]`."""

    name = MEMBER_KIND
    settings_model = PoolMemberSettings

    def fingerprint(self, ctx: Context, settings: PoolMemberSettings) -> dict[str, str]:
        with observing():
            return containers.image_fingerprint(ctx.docker(), settings.image_id,
                                                settings.image_tag)

    def observe(self, ctx: Context, record: Record) -> Observation:
        return observe_container(ctx, record)

    def apply(self, ctx: Context, settings: PoolMemberSettings, prior: Record | None) -> dict[str, Any]:
        return ensure_container(ctx, container_spec(ctx, settings, ctx.object_name()))

    def destroy(self, ctx: Context, record: Record) -> None:
        remove_container(ctx, record)

