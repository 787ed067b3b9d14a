"""`docker_volume_pool`: one named volume and one long-lived container mounting it at
`app_folder` per solution (original, golden, solution1, ...). Inside each container the app
folder gets its owner (`owner`) and is marked as a git `safe.directory`.

Volumes come from a `docker_extract_volume` step (`volume_prefix: "{{ steps.x.volume_prefix }}"`,
used as `<prefix>_<solution>`, never removed here), or are made by each member; a fresh volume
is seeded by Docker with what the image holds at `app_folder`."""

from __future__ import annotations

import shlex
from typing import Any

from pydantic import Field

from runner.errors import StepFailed
from runner.kinds.base import Child, Context, Expansion
from runner.kinds.docker_run import (
    ContainerSettings,
    ensure_container,
    observe_container,
    remove_container,
)
from runner.kinds.engines import OnEngine, engine, image_fingerprint, image_on, recorded_engine
from runner.providers.docker import containers
from runner.providers.docker.engine import observing
from runner.providers.docker.exec import run_in_container
from runner.providers.docker.params import parse_parameters
from runner.providers.docker.volumes import ensure_volume, remove_volume
from runner.state.base import Record
from runner.vocabulary import Observation

MEMBER_KIND = "docker_volume_member"
DEFAULT_SOLUTIONS = ["original", "golden", "solution1", "solution2", "solution3", "solution4"]


class VolumeSettings(ContainerSettings):
    keep_forever: bool = True
    app_folder: str = Field(default="/app", description="where the volume is mounted")
    volume_prefix: str | None = Field(default=None, description="use existing volumes "
                                      "<prefix>_<solution> (from docker_extract_volume)")
    owner: str | None = Field(default=None, description="chown -R the app folder, e.g. 1000:1000")
    safe_directory: bool = Field(default=True, description="git config --system --add "
                                 "safe.directory <app_folder> (skipped when git is absent)")


class VolumeMemberSettings(VolumeSettings):
    solution: str


class DockerVolumePoolSettings(VolumeSettings):
    solutions: list[str] = Field(default_factory=lambda: list(DEFAULT_SOLUTIONS), min_length=1)


def setup_script(app_folder: str, owner: str | None, safe_directory: bool) -> str:
    folder = shlex.quote(app_folder)
    lines = ["set -e"]
    if owner:
        lines.append(f"chown -R {shlex.quote(owner)} {folder}")
    if safe_directory:
        lines.append(f"if command -v git >/dev/null; then git config --system --get-all "
                     f"safe.directory | grep -qxF {folder} || git config --system --add "
                     f"safe.directory {folder}; fi")
    return "\n".join(lines)


class DockerVolumePoolKind(OnEngine):
    name = "docker_volume_pool"
    settings_model = DockerVolumePoolSettings

    def expand(self, ctx: Context, settings: DockerVolumePoolSettings,
               expansion: Expansion) -> list[Child] | None:
        raw = {k: v for k, v in expansion.raw.items() if k != "solutions"}
        return [Child(key=(name,), kind=MEMBER_KIND, settings={**raw, "solution": name})
                for name in settings.solutions]

    def apply(self, ctx: Context, settings: DockerVolumePoolSettings,
              prior: Record | None) -> dict[str, Any]:
        members = {}
        for name in settings.solutions:
            out = ctx.outputs(str(ctx.address.child(name))) or {}
            members[name] = {k: out.get(k) for k in ("container_id", "container_name",
                                                      "volume_name", "image_id")}
            if out.get("engine"):
                members[name]["engine"] = out["engine"]
        return {"members": members, "app_folder": settings.app_folder}


class DockerVolumeMemberKind(OnEngine):
    """One solution's volume and container: `pipeline.<p>.<step>["<solution>"]`."""

    name = MEMBER_KIND
    settings_model = VolumeMemberSettings

    def fingerprint(self, ctx: Context, settings: VolumeMemberSettings) -> dict[str, str]:
        with observing():
            return image_fingerprint(ctx, settings.engine, settings.image_id, settings.image_tag)

    def observe(self, ctx: Context, record: Record) -> Observation:
        volume = record.outputs.get("volume_name")
        with observing():
            if volume and recorded_engine(ctx, record).volume(volume) is None:
                return Observation(exists=False, reasons=(f"volume {volume} is gone",))
        return observe_container(ctx, record)

    def apply(self, ctx: Context, settings: VolumeMemberSettings,
              prior: Record | None) -> dict[str, Any]:
        volume = self._volume(ctx, settings)
        params = parse_parameters(settings.parameters)
        params["volumes"] = [*params.get("volumes", []), f"{volume}:{settings.app_folder}"]
        image_id = image_on(ctx, settings.engine, settings.image_id, settings.image_tag)
        spec = containers.ContainerSpec(name=ctx.object_name(), image_id=image_id,
                                        command=settings.argv(), params=params,
                                        keep_forever=settings.keep_forever)
        outputs = ensure_container(ctx, spec, settings.engine)
        script = setup_script(settings.app_folder, settings.owner, settings.safe_directory)
        result = run_in_container(engine(ctx, settings.engine), outputs["container_id"],
                                  ["/bin/sh", "-c", script], ctx.call(), user="0")
        if result.exit_code != 0:
            raise StepFailed(f"setting up {settings.app_folder} in {spec.name} failed with code "
                             f"{result.exit_code}", output=result.output,
                             exit_code=result.exit_code, command=script)
        return {**outputs, "volume_name": volume,
                "solution": settings.solution, "owns_volume": settings.volume_prefix is None}

    def _volume(self, ctx: Context, settings: VolumeMemberSettings) -> str:
        if settings.volume_prefix is None:
            return ensure_volume(engine(ctx, settings.engine), ctx.owner(), ctx.object_name(),
                                 ctx.log).name
        name = f"{settings.volume_prefix}_{settings.solution}"
        if engine(ctx, settings.engine).volume(name) is None:
            raise StepFailed(f"volume {name} does not exist (volume_prefix "
                             f"{settings.volume_prefix!r}); is the docker_extract_volume step "
                             f"making {settings.solution!r}?", retryable=False)
        return name

    def destroy(self, ctx: Context, record: Record) -> None:
        remove_container(ctx, record)
        if record.outputs.get("owns_volume") and record.outputs.get("volume_name"):
            remove_volume(recorded_engine(ctx, record), ctx.owner(),
                          record.outputs["volume_name"], ctx.log)
