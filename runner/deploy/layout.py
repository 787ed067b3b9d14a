"""Where things are on a droplet, and the names a deployment goes by there.

    <remote_dir>/.taskform/slots/<n>/holder.json   a lease: who holds slot n
    <remote_dir>/.taskform/tmp/                    leases being written, released ones going
    <remote_dir>/deployments/<name>/               one deployment's files, run and reset there

A deployment's name is unique to the state that manages it and its address (`<words>-<hash>`),
so two workspaces sharing a fleet never share a folder, a lease or a container label."""

from __future__ import annotations

import hashlib
import posixpath
import re
from dataclasses import dataclass

LABEL = "taskform.deployment"  # on every container a deployment's run starts (its scripts add it)


@dataclass(frozen=True)
class Layout:
    remote_dir: str

    @property
    def slots(self) -> str:
        return posixpath.join(self.remote_dir, ".taskform", "slots")

    def slot(self, n: int) -> str:
        return posixpath.join(self.slots, str(n))

    def holder(self, n: int) -> str:
        return posixpath.join(self.slot(n), "holder.json")

    @property
    def tmp(self) -> str:
        return posixpath.join(self.remote_dir, ".taskform", "tmp")

    @property
    def deployments(self) -> str:
        return posixpath.join(self.remote_dir, "deployments")

    def directory(self, name: str) -> str:
        return posixpath.join(self.deployments, name)

    def owns(self, path: str) -> bool:
        """True for a deployment folder under this layout (the only kind taskform removes)."""
        parent, name = posixpath.split(posixpath.normpath(path))
        return parent == self.deployments and bool(re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name))


def deployment_name(workspace_id: str, address: str) -> str:
    """`<address words>-<hash of state id and address>`, lower case: a valid folder, Docker
    label value and compose project name."""
    words = re.sub(r"[^a-z0-9]+", "-", address.lower()).strip("-")[:48].rstrip("-")
    digest = hashlib.sha256(f"{workspace_id}\0{address}".encode()).hexdigest()[:10]
    return f"{words}-{digest}"


def lease_id(workspace_id: str, address: str) -> str:
    """What a slot's holder.json names its holder by: the state and the address."""
    return f"{workspace_id}/{address}"


def script_env(name: str, directory: str, droplet: str, slot: int,
               extra: dict[str, str]) -> dict[str, str]:
    """The environment of run, reset and health: the user's, then taskform's own names."""
    return {**extra, "TASKFORM_DEPLOYMENT": name, "TASKFORM_DIR": directory,
            "TASKFORM_LABEL": f"{LABEL}={name}", "TASKFORM_DROPLET": droplet,
            "TASKFORM_SLOT": str(slot), "COMPOSE_PROJECT_NAME": name}
