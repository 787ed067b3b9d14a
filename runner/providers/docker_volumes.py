"""Named volumes as taskform resources: create-or-adopt under a label, never touch others'."""

from __future__ import annotations

from typing import Any

from runner.errors import StepFailed
from runner.kinds.base import Context
from runner.providers.docker import (
    LABEL_ADDRESS,
    LABEL_WORKSPACE,
    api_errors,
    client,
    is_owned,
    labels,
)


def find_volume(ctx: Context, name: str) -> Any:
    import docker

    with api_errors(f"inspect volume {name}"):
        try:
            return client(ctx).volumes.get(name)
        except docker.errors.NotFound:
            return None


def ensure_volume(ctx: Context, name: str) -> Any:
    """Our volume `name`: adopted when this resource made it, refused when someone else did."""
    volume = find_volume(ctx, name)
    if volume is not None:
        found = volume.attrs.get("Labels") or {}
        if not is_owned(found, ctx.workspace, str(ctx.address)):
            owner = found.get(LABEL_WORKSPACE)
            whose = (f"it belongs to {found.get(LABEL_ADDRESS)} in workspace {owner}" if owner
                     else "it was not created by taskform")
            raise StepFailed(f"a volume named {name} already exists and {whose}; taskform "
                             "will not use or remove it", retryable=False)
        return volume
    ctx.log(f"creating volume {name}")
    with api_errors(f"create volume {name}"):
        return client(ctx).volumes.create(name=name, labels=labels(ctx))


def remove_volume(ctx: Context, name: str) -> None:
    """Remove `name` if it exists and this resource made it."""
    volume = find_volume(ctx, name)
    if volume is None:
        return
    if not is_owned(volume.attrs.get("Labels") or {}, ctx.workspace, str(ctx.address)):
        ctx.log(f"left volume {name} alone: it is not this resource's")
        return
    ctx.log(f"removing volume {name}")
    with api_errors(f"remove volume {name}"):
        volume.remove()
