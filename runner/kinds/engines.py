"""Which Docker engine a Docker step uses (not a kind: what the Docker kinds share about it).

`engine:` names it: `local`, the default, is the workspace's own engine (`docker.host`, else
DOCKER_HOST, else the local socket); any other name is a Droplet of the workspace, whose engine
is reached through the SSH door under the droplet's host-key rules. A pipeline's `engine:` is
the default of its steps. The droplet is a dependency of the step (applied before it,
destroyed after it), and only how to reach it decides the step's result, not the slots its
deployments hold.

An image that a step on a droplet's engine needs, and that engine lacks, is sent from the
workspace's own engine (a streamed `docker save | docker load`); it keeps its id, so what
records it records the same id on every engine."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import Field

from runner.address import NAME_PATTERN
from runner.errors import StepFailed
from runner.kinds.base import BaseKind, Context, Settings
from runner.providers.docker.images import send_image
from runner.state.base import Record

if TYPE_CHECKING:
    from runner.providers.docker.engine import DockerEngine

LOCAL = "local"
REACH = ("address", "port", "user", "host_key")  # what of a droplet decides where a step runs
ENGINE_HELP = ("the Docker engine: local (the workspace's own, docker.host), or the name of a "
               "Droplet whose engine it uses (reached through the SSH door)")


class OnEngineSettings(Settings):
    """Settings of a kind that works on one Docker engine."""

    engine: str = Field(default=LOCAL, pattern=NAME_PATTERN, description=ENGINE_HELP)

    def engine_names(self) -> list[str]:
        return [self.engine]


def droplet_addresses(names: Iterable[str]) -> list[str]:
    return [f"droplet.{name}" for name in dict.fromkeys(names) if name != LOCAL]


class OnEngine(BaseKind):
    """A kind whose settings choose engines: the droplets they name are its dependencies."""

    def references(self, settings: Any) -> list[str]:
        return droplet_addresses(settings.engine_names())

    def dependency_view(self, ctx: Context, settings: Any, dependency: str,
                        outputs: Any) -> Any:
        """Of a droplet, only how to reach it, and only when it is one of this resource's engines
        (a pool member depends on every engine of its pool): its slots decide nothing here."""
        if not dependency.startswith("droplet.") or not isinstance(outputs, dict):
            return outputs
        if dependency not in self.references(settings):
            return None
        return {key: outputs.get(key) for key in REACH}


def is_local(name: str | None) -> bool:
    return not name or name == LOCAL


def engine(ctx: Context, name: str | None) -> DockerEngine:
    """The engine `name` stands for, connected on its first use in the run."""
    if is_local(name):
        return ctx.docker()
    assert name is not None
    # here: a plan whose steps all use the local engine need not load the droplet door (SSH)
    from runner.deploy.endpoint import Droplet
    from runner.deploy.engines import droplet_engine

    droplet = Droplet.from_outputs(name, ctx.outputs(f"droplet.{name}"))
    size = max(10, ctx.workspace.parallelism + 4)
    return droplet_engine(ctx.workspace, ctx.connections, droplet, size)


def recorded_engine(ctx: Context, record: Record) -> DockerEngine:
    """The engine a record's resource was applied on (the workspace's own when it says none)."""
    settings = record.settings if isinstance(record.settings, dict) else {}
    name = settings.get("engine")
    return engine(ctx, name if isinstance(name, str) else None)


def recorded_engine_name(record: Record) -> str:
    settings = record.settings if isinstance(record.settings, dict) else {}
    name = settings.get("engine")
    return name if isinstance(name, str) and name else LOCAL


def image_on(ctx: Context, name: str | None, image_id: str | None,
             image_tag: str | None) -> str:
    """The id of the image to run on engine `name` (by id when known, else the tag's current
    image), sent there from the workspace's own engine when it is missing."""
    ref = image_id or image_tag
    if not ref:
        raise StepFailed("no image: set image_id (e.g. from a docker_build step) or image_tag",
                         retryable=False)
    target = engine(ctx, name)
    found = target.image(ref)
    if found is None and not is_local(name):
        # one sender per engine and image: the pool's other members wait for it, then find it
        with ctx.connections.get("image-send", f"{name}|{ref}", threading.Lock):
            found = target.image(ref)
            source = ctx.docker()
            if found is None and source.image(ref) is not None:
                found = send_image(source, target, ref, ctx.call())
    if found is None:
        where = "is not present on the engine" if is_local(name) else \
            f"is neither on {target.name} nor on the workspace's own engine"
        raise StepFailed(f"image {ref} {where}; add a docker_pull or docker_build step that "
                         "provides it", retryable=False)
    return found.id


def image_fingerprint(ctx: Context, name: str | None, image_id: str | None,
                      image_tag: str | None) -> dict[str, str]:
    """When only a tag is given, the tag's current image decides the result: on a droplet's
    engine that lacks it, the image it would be sent (the workspace engine's)."""
    if image_id or not image_tag:
        return {}
    found = engine(ctx, name).image(image_tag)
    if found is None and not is_local(name):
        found = ctx.docker().image(image_tag)
    return {f"image {image_tag}": found.id if found else "missing"}
