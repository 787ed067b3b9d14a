"""The Docker door's settings (`docker:` in taskform.yaml)."""

from __future__ import annotations

from pydantic import Field

from runner.strict import StrictModel


class DockerSettings(StrictModel):
    host: str | None = Field(default=None, description="the engine (unix://, tcp://, ssh://); "
                             "default: DOCKER_HOST, else the local socket")
