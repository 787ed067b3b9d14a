"""Long-lived containers as taskform resources: create-or-adopt under a deterministic name,
observe drift (gone, stopped, configuration changed outside), and remove only what is ours."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runner.errors import StepFailed
from runner.providers.docker.engine import ContainerInfo, DockerEngine
from runner.providers.docker.labels import (
    LABEL_CONFIG,
    LABEL_REPLACES,
    LABEL_RUN,
    Owner,
    short_id,
    whose,
)
from runner.providers.docker.params import sdk_arguments
from runner.vocabulary import IN_SYNC, Observation

KEEP_ALIVE = (["sleep"], ["infinity"])  # entrypoint, command: no shell needed in the image
LOG_TAIL_LINES = 40
Log = Callable[[str], None]


@dataclass(frozen=True)
class ContainerSpec:
    """Everything that decides a container: its config hash is the digest of this.
    `params`: parsed `docker run` flags (see `params.parse_parameters`)."""

    name: str
    image_id: str
    command: list[str] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    keep_forever: bool = False

    @property
    def config_hash(self) -> str:
        text = json.dumps({"name": self.name, "image": self.image_id, "command": self.command,
                           "params": self.params, "keep_forever": self.keep_forever},
                          sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def resolve_image(engine: DockerEngine, image_id: str | None, image_tag: str | None) -> str:
    """The id of the image to run (by id when known, else the tag's current image)."""
    ref = image_id or image_tag
    if not ref:
        raise StepFailed("no image: set image_id (e.g. from a docker_build step) or image_tag",
                         retryable=False)
    found = engine.image(ref)
    if found is None:
        raise StepFailed(f"image {ref} is not present on the engine; add a docker_pull or "
                         "docker_build step that provides it", retryable=False)
    return found.id


def image_fingerprint(engine: DockerEngine, image_id: str | None,
                      image_tag: str | None) -> dict[str, str]:
    """When only a tag is given, the tag's current image decides the result."""
    if image_id or not image_tag:
        return {}
    found = engine.image(image_tag)
    return {f"image {image_tag}": found.id if found else "missing"}


def find_recorded(engine: DockerEngine, recorded: dict[str, Any]) -> ContainerInfo | None:
    """The container a record names: by its id, else (replaced in place, or recreated outside
    taskform) whatever now carries its name."""
    name = recorded.get("container_name") or ""
    container = engine.container(recorded.get("container_id") or name)
    if container is None and name:
        container = engine.container(name)
    return container


def ensure(engine: DockerEngine, owner: Owner, spec: ContainerSpec, log: Log,
           bind: Callable[[str], str] = lambda volume: volume) -> ContainerInfo:
    """The running container for `spec`: adopt ours if identical, else (re)create it. A
    container with the same name that taskform did not create here is never touched.
    `bind` maps each `-v` value (a workspace-relative source to an absolute one)."""
    existing = engine.container(spec.name)
    if existing is not None:
        if not owner.owns(existing.labels):
            raise StepFailed(clash_message(existing), retryable=False)
        if existing.labels.get(LABEL_CONFIG) == spec.config_hash and \
                (existing.running or not spec.keep_forever):
            log(f"adopted container {spec.name} ({short_id(existing.id)})")
            return existing
        log(f"removing outdated container {spec.name}")
        engine.remove_container(existing.id)
    return _create(engine, owner, spec, log, bind)


def clash_message(other: ContainerInfo) -> str:
    return (f"a container named {other.name} already exists and {whose(other.labels)}; "
            "taskform will not remove it: remove or rename it yourself, or set container_name")


def _create(engine: DockerEngine, owner: Owner, spec: ContainerSpec, log: Log,
            bind: Callable[[str], str]) -> ContainerInfo:
    args = sdk_arguments(spec.params)
    user_labels = args.pop("labels", {})
    args["volumes"] = [bind(v) for v in args.get("volumes", [])] or None
    command = spec.command
    if spec.keep_forever and command is None and "entrypoint" not in args:
        args["entrypoint"], command = KEEP_ALIVE
        args["init"] = True
    log(f"creating container {spec.name} from image {short_id(spec.image_id)}")
    container = engine.create_container(
        spec.image_id, command, name=spec.name,
        labels={**user_labels, **owner.labels(spec.config_hash)}, start=False, **args)
    try:
        engine.start_container(container.id, spec.name)
        if spec.keep_forever:
            _check_alive(engine, container, spec)
        return engine.container(container.id) or container
    except StepFailed:
        # nothing half-made is left for a record that cannot name it: the next apply starts over
        engine.remove_container(container.id)
        raise


def _check_alive(engine: DockerEngine, container: ContainerInfo, spec: ContainerSpec) -> None:
    time.sleep(0.05)  # a command that cannot start fails within milliseconds
    now = engine.container(container.id)
    if now is None or not now.running:
        code = now.exit_code if now is not None else None
        logs = engine.logs(container.id, tail=LOG_TAIL_LINES) if now is not None else ""
        raise StepFailed(f"container {spec.name} exited at once with code {code}; it should "
                         "keep running (keep_forever)", output=logs, exit_code=code)


def outputs(container: ContainerInfo, spec: ContainerSpec) -> dict[str, Any]:
    return {"container_id": container.id, "container_name": spec.name,
            "image_id": spec.image_id, "config_hash": spec.config_hash}


def observe(engine: DockerEngine, owner: Owner, recorded: dict[str, Any], keep_forever: bool,
            removes_itself: bool = False) -> Observation:
    """Gone, recreated or changed outside taskform, or stopped when it must keep running."""
    name = recorded.get("container_name") or ""
    container = find_recorded(engine, recorded)
    if container is None:
        if removes_itself:  # --rm: a finished container is expected to be gone
            return IN_SYNC
        return Observation(exists=False, reasons=(f"container {name} is gone",))
    reasons = []
    if container.id != recorded.get("container_id") and \
            not is_replacement(owner, container, recorded):
        reasons.append(f"container {name} was recreated outside taskform")
    elif container.labels.get(LABEL_CONFIG) != recorded.get("config_hash"):
        reasons.append(f"container {name} was changed outside taskform (config-hash differs)")
    elif keep_forever and not container.running:
        reasons.append(f"container {name} is {container.status} (exit code "
                       f"{container.exit_code})")
    return Observation(reasons=tuple(reasons))


def is_replacement(owner: Owner, container: ContainerInfo, recorded: dict[str, Any]) -> bool:
    """True for a container taskform made in place of the recorded one (see `recreate`)."""
    return bool(recorded.get("container_id")) and \
        container.labels.get(LABEL_REPLACES) == recorded.get("container_id") and \
        owner.owns(container.labels)


def recreate(engine: DockerEngine, owner: Owner, name: str, log: Log) -> ContainerInfo:
    """Discard a container and start an identical one under the same name, labels and config
    hash (a grading that timed out must never reuse its container). The new one carries
    LABEL_REPLACES, so the resource that recorded the first one still owns it."""
    old = engine.container(name)
    if old is None:
        raise StepFailed(f"container {name} is gone; the next apply recreates it")
    if not owner.owns(old.labels, any_address=True):
        raise StepFailed(clash_message(old), retryable=False)
    new_labels = {**old.labels, LABEL_RUN: owner.run,
                  LABEL_REPLACES: old.labels.get(LABEL_REPLACES) or old.id}
    log(f"discarding container {name} ({short_id(old.id)}) and starting a fresh one")
    engine.remove_container(old.id)
    container = engine.clone_container(old, name=name, labels=new_labels)
    if not container.running:
        raise StepFailed(f"the fresh container {name} is {container.status}, not running")
    return container


def remove(engine: DockerEngine, owner: Owner, recorded: dict[str, Any], log: Log) -> None:
    """Remove the recorded container (or the one that replaced it in place) if it is still
    there and still ours."""
    container = find_recorded(engine, recorded)
    if container is None:
        return
    if not owner.owns(container.labels):
        log(f"left container {container.name} alone: it is not this resource's")
        return
    log(f"removing container {container.name}")
    engine.remove_container(container.id)
