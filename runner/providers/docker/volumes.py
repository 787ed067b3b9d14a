"""Named volumes as taskform resources: create-or-adopt under a label, never touch others'."""

from __future__ import annotations

from collections.abc import Callable

from runner.errors import StepFailed
from runner.providers.docker.engine import DockerEngine, VolumeInfo
from runner.providers.docker.labels import Owner, whose

Log = Callable[[str], None]


def ensure_volume(engine: DockerEngine, owner: Owner, name: str, log: Log) -> VolumeInfo:
    """Our volume `name`: adopted when this owner made it, refused when someone else did."""
    volume = engine.volume(name)
    if volume is not None:
        if not owner.owns(volume.labels):
            raise StepFailed(f"a volume named {name} already exists and {whose(volume.labels)}; "
                             "taskform will not use or remove it", retryable=False)
        return volume
    log(f"creating volume {name}")
    return engine.create_volume(name, owner.labels())


def remove_volume(engine: DockerEngine, owner: Owner, name: str, log: Log) -> None:
    """Remove `name` if it exists and this owner made it."""
    volume = engine.volume(name)
    if volume is None:
        return
    if not owner.owns(volume.labels):
        log(f"left volume {name} alone: it is not this resource's")
        return
    log(f"removing volume {name}")
    engine.remove_volume(name)
