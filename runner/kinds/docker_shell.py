"""`docker_shell` (task-sync's step, which never ran there): labelled commands run in order in a
running container. A failure stops the list and names the command, its exit code and output.
The target container's id is part of the fingerprint, so a replaced container reruns it.
The step's `timeout` bounds each command, not the list."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from pydantic import Field, field_validator, model_validator

from runner.errors import StepFailed, StepTimeout
from runner.kinds.base import Context, Settings
from runner.kinds.engines import OnEngine, OnEngineSettings, engine
from runner.providers.docker.engine import observing
from runner.providers.docker.exec import run_in_container
from runner.state.base import Record

OUTPUT_TAIL_BYTES = 16 * 1024


class TaskSyncTarget(Settings):
    """task-sync's `docker: {...}` block; only the container fields pick the target."""

    container_id: str | None = None
    container_name: str | None = None
    image_tag: str | None = None
    image_id: str | None = None


class DockerShellSettings(OnEngineSettings):
    container: str | None = Field(default=None, description="container name or id, e.g. "
                                  "{{ steps.app.container_id }}")
    docker: TaskSyncTarget | None = Field(default=None, description="task-sync's target block")
    command: list[dict[str, str] | str] = Field(min_length=1, description="[{label: command}, "
                                                "...] run in order with `shell -c`")
    shell: str = "/bin/sh"
    workdir: str | None = None
    user: str | None = None
    env: dict[str, str] = Field(default_factory=dict)

    @field_validator("command", mode="before")
    @classmethod
    def _one_line(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("command")
    @classmethod
    def _labelled(cls, value: list[dict[str, str] | str]) -> list[dict[str, str] | str]:
        for i, item in enumerate(value):
            if isinstance(item, dict) and len(item) != 1:
                raise ValueError(f"command[{i}]: expected one `label: command` pair, got "
                                 f"{len(item)} keys")
        return value

    @model_validator(mode="after")
    def _target(self) -> DockerShellSettings:
        if not self.target():
            raise ValueError("set container (a name or id, e.g. \"{{ steps.app.container_id }}\")")
        return self

    def target(self) -> str | None:
        block = self.docker or TaskSyncTarget()
        return self.container or block.container_id or block.container_name

    def commands(self) -> list[tuple[str, str]]:
        out = []
        for i, item in enumerate(self.command):
            out.append(next(iter(item.items())) if isinstance(item, dict) else (f"command {i + 1}", item))
        return out


class DockerShellKind(OnEngine):
    name = "docker_shell"
    settings_model = DockerShellSettings

    def fingerprint(self, ctx: Context, settings: DockerShellSettings) -> dict[str, str]:
        target = settings.target() or ""
        with observing():
            container = engine(ctx, settings.engine).container(target)
        shown = target[:12] if len(target) == 64 else target  # a full id reads badly in a plan
        return {f"container {shown}": container.id if container is not None else "missing"}

    def time_budget(self, settings: DockerShellSettings, timeout: float) -> float:
        return timeout * max(1, len(settings.commands()))

    def apply(self, ctx: Context, settings: DockerShellSettings, prior: Record | None) -> dict[str, Any]:
        target = settings.target() or ""
        docker = engine(ctx, settings.engine)
        container = docker.container(target)
        if container is None:
            raise StepFailed(f"container {target} does not exist", retryable=False)
        results = []
        for label, command in settings.commands():
            ctx.check_cancelled()
            ctx.log(f"[{label}] {command}")
            call = ctx.call()
            if ctx.timeout is not None:  # the step's timeout bounds each command
                call = dataclasses.replace(call, deadline=min(time.monotonic() + ctx.timeout,
                                                              ctx.deadline or float("inf")))
            try:
                result = run_in_container(docker, container.id, [settings.shell, "-c", command],
                                          call, workdir=settings.workdir, user=settings.user,
                                          env=settings.env, limit=OUTPUT_TAIL_BYTES)
            except StepTimeout as exc:
                raise StepTimeout(f"command {label!r} {exc.message}", output=exc.output) from None
            results.append({"label": label, "exit_code": result.exit_code,
                            "output": result.output, "seconds": round(result.seconds, 3)})
            if result.exit_code != 0:
                raise StepFailed(f"command {label!r} exited with code {result.exit_code} in "
                                 f"container {container.name}", output=result.output,
                                 exit_code=result.exit_code, command=command)
        return {"container_id": container.id, "container_name": container.name,
                "results": results}
