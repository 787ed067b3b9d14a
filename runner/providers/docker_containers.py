"""Long-lived containers as taskform resources: create-or-adopt under a deterministic name,
observe drift (gone, stopped, configuration changed outside), and remove only what is ours."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runner.errors import StepFailed
from runner.fingerprint import digest
from runner.kinds.base import Context
from runner.providers.docker import (
    LABEL_ADDRESS,
    LABEL_CONFIG,
    LABEL_REPLACES,
    LABEL_RUN,
    LABEL_WORKSPACE,
    api_errors,
    client,
    is_owned,
    labels,
    short_id,
)
from runner.providers.docker_params import sdk_arguments
from runner.vocabulary import IN_SYNC, Observation

if TYPE_CHECKING:
    from docker.models.containers import Container

KEEP_ALIVE = (["sleep"], ["infinity"])  # entrypoint, command: no shell needed in the image
LOG_TAIL_LINES = 40


@dataclass(frozen=True)
class ContainerSpec:
    """Everything that decides a container: its config hash is the digest of this."""

    name: str
    image_id: str
    command: list[str] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    keep_forever: bool = False

    @property
    def config_hash(self) -> str:
        return digest({"name": self.name, "image": self.image_id, "command": self.command,
                       "params": self.params, "keep_forever": self.keep_forever})[:16]


def resolve_image(ctx: Context, image_id: str | None, image_tag: str | None) -> str:
    """The id of the image to run (by id when known, else the tag's current image)."""
    import docker

    ref = image_id or image_tag
    if not ref:
        raise StepFailed("no image: set image_id (e.g. from a docker_build step) or image_tag",
                         retryable=False)
    with api_errors(f"inspect image {ref}"):
        try:
            return str(client(ctx).images.get(ref).id)
        except docker.errors.ImageNotFound:
            raise StepFailed(f"image {ref} is not present on the engine; add a docker_pull or "
                             "docker_build step that provides it", retryable=False) from None


def image_fingerprint(ctx: Context, image_id: str | None, image_tag: str | None) -> dict[str, str]:
    """When only a tag is given, the tag's current image decides the result."""
    import docker

    if image_id or not image_tag:
        return {}
    try:
        return {f"image {image_tag}": str(client(ctx).images.get(image_tag).id)}
    except docker.errors.ImageNotFound:
        return {f"image {image_tag}": "missing"}


def find(ctx: Context, name_or_id: str) -> Container | None:
    import docker

    with api_errors(f"inspect container {name_or_id}"):
        try:
            return client(ctx).containers.get(name_or_id)
        except docker.errors.NotFound:
            return None


def find_recorded(ctx: Context, recorded: dict[str, Any]) -> Container | None:
    """The container a record names: by its id, else (replaced in place, or recreated outside
    taskform) whatever now carries its name."""
    name = recorded.get("container_name") or ""
    container = find(ctx, recorded.get("container_id") or name)
    if container is None and name:
        container = find(ctx, name)
    return container


def ensure(ctx: Context, spec: ContainerSpec) -> Container:
    """The running container for `spec`: adopt ours if identical, else (re)create it. A
    container with the same name that taskform did not create here is never touched."""
    existing = find(ctx, spec.name)
    if existing is not None:
        if not is_owned(existing.labels, ctx.workspace, str(ctx.address)):
            raise StepFailed(clash_message(ctx, existing), retryable=False)
        if existing.labels.get(LABEL_CONFIG) == spec.config_hash and \
                (existing.status == "running" or not spec.keep_forever):
            ctx.log(f"adopted container {spec.name} ({short_id(existing.id)})")
            return existing
        ctx.log(f"removing outdated container {spec.name}")
        with api_errors(f"remove container {spec.name}"):
            existing.remove(force=True)
    return _create(ctx, spec)


def clash_message(ctx: Context, other: Container) -> str:
    owner = other.labels.get(LABEL_WORKSPACE)
    whose = (f"it belongs to {other.labels.get(LABEL_ADDRESS)} in workspace {owner}" if owner
             else "it was not created by taskform")
    return (f"a container named {other.name} already exists and {whose}; taskform will not "
            f"remove it: remove or rename it yourself, or set container_name")


def _create(ctx: Context, spec: ContainerSpec) -> Container:
    args = sdk_arguments(spec.params)
    user_labels = args.pop("labels", {})
    args["volumes"] = [_bind(ctx, v) for v in args.get("volumes", [])] or None
    command = spec.command
    if spec.keep_forever and command is None and "entrypoint" not in args:
        args["entrypoint"], command = KEEP_ALIVE
        args["init"] = True
    ctx.log(f"creating container {spec.name} from image {short_id(spec.image_id)}")
    with api_errors(f"create container {spec.name}"):
        container = client(ctx).containers.create(
            spec.image_id, command, name=spec.name, detach=True,
            labels={**user_labels, **labels(ctx, spec.config_hash)}, **args)
    with api_errors(f"start container {spec.name}"):
        container.start()
    if spec.keep_forever:
        _check_alive(container, spec)
    return container


def _bind(ctx: Context, volume: str) -> str:
    """`./data:/data` means a folder of the workspace (checked to stay inside it)."""
    source, _, rest = volume.partition(":")
    if source.startswith("."):
        source = str(ctx.path(source, "parameters -v"))
    return f"{source}:{rest}"


def _check_alive(container: Container, spec: ContainerSpec) -> None:
    time.sleep(0.05)  # a command that cannot start fails within milliseconds
    container.reload()
    if container.status != "running":
        code = container.attrs.get("State", {}).get("ExitCode")
        logs = container.logs(tail=LOG_TAIL_LINES).decode("utf-8", "replace")
        raise StepFailed(f"container {spec.name} exited at once with code {code}; it should "
                         "keep running (keep_forever)", output=logs, exit_code=code)


def outputs(container: Container, spec: ContainerSpec) -> dict[str, Any]:
    return {"container_id": container.id, "container_name": spec.name,
            "image_id": spec.image_id, "config_hash": spec.config_hash}


def observe(ctx: Context, recorded: dict[str, Any], keep_forever: bool,
            removes_itself: bool = False) -> Observation:
    """Gone, recreated or changed outside taskform, or stopped when it must keep running."""
    name = recorded.get("container_name") or ""
    container = find_recorded(ctx, recorded)
    if container is None:
        if removes_itself:  # --rm: a finished container is expected to be gone
            return IN_SYNC
        return Observation(exists=False, reasons=(f"container {name} is gone",))
    reasons = []
    if container.id != recorded.get("container_id") and not is_replacement(ctx, container,
                                                                          recorded):
        reasons.append(f"container {name} was recreated outside taskform")
    elif container.labels.get(LABEL_CONFIG) != recorded.get("config_hash"):
        reasons.append(f"container {name} was changed outside taskform (config-hash differs)")
    elif keep_forever and container.status != "running":
        code = container.attrs.get("State", {}).get("ExitCode")
        reasons.append(f"container {name} is {container.status} (exit code {code})")
    return Observation(reasons=tuple(reasons))


def is_replacement(ctx: Context, container: Container, recorded: dict[str, Any]) -> bool:
    """True for a container taskform made in place of the recorded one (see `recreate`)."""
    return bool(recorded.get("container_id")) and \
        container.labels.get(LABEL_REPLACES) == recorded.get("container_id") and \
        is_owned(container.labels, ctx.workspace, str(ctx.address))


def recreate(ctx: Context, name: str) -> Container:
    """Discard a container and start an identical one under the same name, labels and config
    hash (a grading that timed out must never reuse its container). The new one carries
    LABEL_REPLACES, so the resource that recorded the first one still owns it."""
    old = find(ctx, name)
    if old is None:
        raise StepFailed(f"container {name} is gone; the next apply recreates it")
    if not is_owned(old.labels, ctx.workspace):
        raise StepFailed(clash_message(ctx, old), retryable=False)
    config, host = old.attrs["Config"], old.attrs["HostConfig"]
    new_labels = {**old.labels, LABEL_RUN: ctx.run_id,
                  LABEL_REPLACES: old.labels.get(LABEL_REPLACES) or old.id}
    ctx.log(f"discarding container {name} ({short_id(old.id)}) and starting a fresh one")
    with api_errors(f"remove container {name}"):
        old.remove(force=True)
    api = client(ctx).api
    with api_errors(f"recreate container {name}"):
        created = api.create_container(
            image=config["Image"], command=config.get("Cmd"), entrypoint=config.get("Entrypoint"),
            environment=config.get("Env"), working_dir=config.get("WorkingDir") or None,
            user=config.get("User") or None, labels=new_labels, name=name, host_config=host,
            stop_signal=config.get("StopSignal"), tty=bool(config.get("Tty")),
            stdin_open=bool(config.get("OpenStdin")), healthcheck=config.get("Healthcheck"),
            use_config_proxy=False)  # Env is copied whole, proxy variables included
        api.start(created["Id"])
    container = client(ctx).containers.get(created["Id"])
    if container.status != "running":
        raise StepFailed(f"the fresh container {name} is {container.status}, not running")
    return container


def remove(ctx: Context, recorded: dict[str, Any]) -> None:
    """Remove the recorded container (or the one that replaced it in place) if it is still
    there and still ours."""
    name = recorded.get("container_name") or ""
    container = find_recorded(ctx, recorded)
    if container is None:
        return
    if not is_owned(container.labels, ctx.workspace, str(ctx.address)):
        ctx.log(f"left container {container.name} alone: it is not this resource's")
        return
    ctx.log(f"removing container {container.name}")
    with api_errors(f"remove container {name}"):
        container.remove(force=True)
