"""The Docker door's settings (`docker:` in taskform.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from runner.strict import StrictModel


class DockerSettings(StrictModel):
    host: str | None = Field(default=None, description="the engine (unix://, tcp://, ssh://); "
                             "default: DOCKER_HOST, else the local socket")
    tag_scope: Literal["shared", "workspace"] = Field(
        default="shared", description="`shared`: docker_build tags images as written, and "
        "another workspace on the engine may move the tag; `workspace`: each tag gets this "
        "workspace's suffix (`app:dev-a8121f`), so no other workspace builds the same one")
