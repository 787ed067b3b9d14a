"""`docker_run` (task-sync's step): one container from an image, under a deterministic name,
replaced when it is gone, stopped (with keep_forever) or changed outside taskform."""

from __future__ import annotations

import shlex
from typing import Any

from pydantic import Field, field_validator, model_validator

from runner.kinds.base import Context
from runner.kinds.engines import (
    OnEngine,
    OnEngineSettings,
    engine,
    image_fingerprint,
    image_on,
    is_local,
    recorded_engine,
)
from runner.providers.docker import containers
from runner.providers.docker.engine import observing
from runner.providers.docker.params import parse_parameters
from runner.spec.paths import escape_problem
from runner.state.base import Record
from runner.vocabulary import Observation


class ContainerSettings(OnEngineSettings):
    """What decides a container; shared by docker_run, docker_pool and its members."""

    image_tag: str | None = Field(default=None, description="image to run, by tag")
    image_id: str | None = Field(default=None, description="image to run, by id (e.g. "
                                 "{{ steps.build.image_id }}); wins over image_tag")
    command: str | list[str] | None = Field(default=None, description="command (argv list, or "
                                            "a line split like a shell would)")
    parameters: list[str] = Field(default_factory=list, description="docker run flags: -p, -e, "
                                  "-v, --network, --memory, --cpus, --init, --user, ...")
    keep_forever: bool = Field(default=False, description="keep it running (`sleep infinity` "
                               "under --init when no command is given)")

    @field_validator("parameters")
    @classmethod
    def _flags(cls, value: list[str]) -> list[str]:
        if not any("{{" in item for item in value):  # templated flags are checked once rendered
            for volume in parse_parameters(value).get("volumes", []):
                _check_bind(volume.partition(":")[0])
        return value

    @field_validator("command")
    @classmethod
    def _command(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, str) and "{{" not in value:  # a template is checked once rendered
            try:
                shlex.split(value)
            except ValueError as exc:
                raise ValueError(f"cannot split the command like a shell would: {exc}") from None
        return value

    @model_validator(mode="after")
    def _image(self) -> ContainerSettings:
        if not self.image_id and not self.image_tag:
            raise ValueError("set image_tag or image_id (e.g. image_id: "
                             "\"{{ steps.build.image_id }}\")")
        return self

    def argv(self) -> list[str] | None:
        if self.command is None:
            return None
        return shlex.split(self.command) if isinstance(self.command, str) else list(self.command)


def _check_bind(source: str) -> None:
    """A `-v ./folder:/path` source is a folder of the workspace (absolute host paths and named
    volumes are the documented alternatives); one that climbs out is refused before any run."""
    if source.startswith("."):
        problem = escape_problem(source)
        if problem:
            raise ValueError(f"-v {source}: expected a folder inside the workspace ({problem})")


class DockerRunSettings(ContainerSettings):
    container_name: str | None = Field(default=None, description="default: tf-<pipeline>-"
                                       "<step>-<workspace hash>")


def container_spec(ctx: Context, settings: ContainerSettings, name: str) -> containers.ContainerSpec:
    image_id = image_on(ctx, settings.engine, settings.image_id, settings.image_tag)
    return containers.ContainerSpec(name=name, image_id=image_id, command=settings.argv(),
                                    params=parse_parameters(settings.parameters),
                                    keep_forever=settings.keep_forever)


def observe_container(ctx: Context, record: Record) -> Observation:
    settings = record.settings if isinstance(record.settings, dict) else {}
    params = settings.get("parameters") or []
    removes_itself = not settings.get("keep_forever") and "--rm" in " ".join(params).split()
    with observing():
        return containers.observe(recorded_engine(ctx, record), ctx.owner(), record.outputs,
                                  bool(settings.get("keep_forever")),
                                  removes_itself=removes_itself)


def ensure_container(ctx: Context, spec: containers.ContainerSpec,
                     engine_name: str | None = None) -> dict[str, Any]:
    """Create or adopt the container on its engine; its outputs (with the engine's name when
    it is not the workspace's own)."""
    def bind(volume: str) -> str:  # `./data:/data` is a folder of the workspace, kept inside it
        source, _, rest = volume.partition(":")
        if source.startswith("."):
            source = str(ctx.path(source, "parameters -v"))
        return f"{source}:{rest}"

    container = containers.ensure(engine(ctx, engine_name), ctx.owner(), spec, ctx.log, bind)
    outputs = containers.outputs(container, spec)
    return outputs if is_local(engine_name) else {**outputs, "engine": engine_name}


def remove_container(ctx: Context, record: Record) -> None:
    containers.remove(recorded_engine(ctx, record), ctx.owner(), record.outputs, ctx.log)


class DockerRunKind(OnEngine):
    name = "docker_run"
    settings_model = DockerRunSettings

    def claims(self, settings: DockerRunSettings) -> list[str]:
        return [f"container name {settings.container_name}"] if settings.container_name else []

    def fingerprint(self, ctx: Context, settings: DockerRunSettings) -> dict[str, str]:
        with observing():
            return image_fingerprint(ctx, settings.engine, settings.image_id, settings.image_tag)

    def observe(self, ctx: Context, record: Record) -> Observation:
        return observe_container(ctx, record)

    def apply(self, ctx: Context, settings: DockerRunSettings, prior: Record | None) -> dict[str, Any]:
        spec = container_spec(ctx, settings, settings.container_name or ctx.object_name())
        return ensure_container(ctx, spec, settings.engine)

    def destroy(self, ctx: Context, record: Record) -> None:
        remove_container(ctx, record)
