"""`docker_extract_volume` (task-sync's step, without its runtime `apt-get install rsync`):
copy an image's app folder into an `original` volume, and from it into a `golden` volume and
N solution volumes (`<volume_name>_original`, `_golden`, `_solution1`, ...). A helper
container from the image does the copy with `cp -a`, with no network, and is removed after."""

from __future__ import annotations

import shlex
from typing import Any

from pydantic import Field, field_validator

from runner.errors import StepFailed
from runner.kinds.base import Context
from runner.kinds.engines import (
    OnEngine,
    OnEngineSettings,
    engine,
    image_fingerprint,
    image_on,
    recorded_engine,
)
from runner.providers.docker import containers
from runner.providers.docker.engine import DockerEngine, observing
from runner.providers.docker.volumes import ensure_volume, remove_volume
from runner.state.base import Record
from runner.vocabulary import Observation

MOUNT_ROOT = "/tf-volumes"


class DockerExtractVolumeSettings(OnEngineSettings):
    image_tag: str | None = None
    image_id: str | None = Field(default=None, description="wins over image_tag, e.g. "
                                 "{{ steps.build.image_id }}")
    app_folder: str = Field(default="/app", description="the folder inside the image to copy")
    volume_name: str | None = Field(default=None, description="base name of the volumes "
                                    "(default: tf-<pipeline>-<step>-<workspace hash>)")
    solutions: int | list[str] = Field(default=4, description="N (solution1..N) or the names")
    golden: bool = True

    @field_validator("app_folder")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"expected an absolute path inside the image, got {value!r}")
        return value.rstrip("/") or "/"

    def keys(self) -> list[str]:
        names = [f"solution{i}" for i in range(1, self.solutions + 1)] \
            if isinstance(self.solutions, int) else list(self.solutions)
        return ["original", *(["golden"] if self.golden else []), *names]


def copy_script(app_folder: str, keys: list[str]) -> str:
    """Empty each volume, then copy the image's folder to `original` and `original` onward."""
    def copy(src: str, key: str) -> str:
        dst = shlex.quote(f"{MOUNT_ROOT}/{key}")
        return f"find {dst} -mindepth 1 -delete && cp -a {shlex.quote(src)}/. {dst}/"

    lines = ["set -e",
             f"[ -d {shlex.quote(app_folder)} ] || {{ echo '{app_folder} is not a folder in the "
             "image' >&2; exit 3; }", copy(app_folder, "original")]
    lines += [copy(f"{MOUNT_ROOT}/original", key) for key in keys[1:]]
    return "\n".join(lines)


class DockerExtractVolumeKind(OnEngine):
    name = "docker_extract_volume"
    settings_model = DockerExtractVolumeSettings

    def claims(self, settings: DockerExtractVolumeSettings) -> list[str]:
        return [f"volume name {settings.volume_name}"] if settings.volume_name else []

    def fingerprint(self, ctx: Context, settings: DockerExtractVolumeSettings) -> dict[str, str]:
        with observing():
            return image_fingerprint(ctx, settings.engine, settings.image_id, settings.image_tag)

    def observe(self, ctx: Context, record: Record) -> Observation:
        with observing():
            docker = recorded_engine(ctx, record)
            gone = [n for n in (record.outputs.get("volumes") or {}).values()
                    if docker.volume(n) is None]
        return Observation(reasons=tuple(f"volume {n} is gone" for n in gone))

    def apply(self, ctx: Context, settings: DockerExtractVolumeSettings,
              prior: Record | None) -> dict[str, Any]:
        docker, owner = engine(ctx, settings.engine), ctx.owner()
        image_id = image_on(ctx, settings.engine, settings.image_id, settings.image_tag)
        base = settings.volume_name or ctx.object_name()
        volumes = {key: f"{base}_{key}" for key in settings.keys()}
        for name in volumes.values():
            ensure_volume(docker, owner, name, ctx.log)
        if prior:  # volumes no longer asked for
            for key, name in (prior.outputs.get("volumes") or {}).items():
                if key not in volumes:
                    remove_volume(recorded_engine(ctx, prior), owner, name, ctx.log)
        self._copy(ctx, docker, image_id, settings.app_folder, volumes)
        return {"volumes": volumes, "volume_prefix": base, "image_id": image_id,
                "app_folder": settings.app_folder}

    def _copy(self, ctx: Context, docker: DockerEngine, image_id: str, app_folder: str,
              volumes: dict[str, str]) -> None:
        owner = ctx.owner()
        helper = ctx.object_name("extract")
        leftover = docker.container(helper)
        if leftover is not None:  # a crashed run's helper, ours by its labels
            containers.remove(docker, owner, {"container_id": leftover.id,
                                              "container_name": helper}, ctx.log)
        ctx.log(f"copying {app_folder} into {', '.join(volumes.values())}")
        container = docker.create_container(
            image_id, [copy_script(app_folder, list(volumes))], entrypoint=["/bin/sh", "-c"],
            name=helper, user="0", network_mode="none", labels=owner.labels(),
            volumes=[f"{name}:{MOUNT_ROOT}/{key}" for key, name in volumes.items()])
        try:
            code = docker.wait(container.id, timeout=ctx.remaining() or 600)
            logs = docker.logs(container.id, tail="all")
        finally:
            docker.remove_container(container.id)
        if code != 0:
            raise StepFailed(f"copying {app_folder} out of image {image_id[:19]} failed with "
                             f"code {code}", output=logs, exit_code=code, retryable=False)

    def destroy(self, ctx: Context, record: Record) -> None:
        for name in (record.outputs.get("volumes") or {}).values():
            remove_volume(recorded_engine(ctx, record), ctx.owner(), name, ctx.log)
