"""From a droplet (its settings, or what its record says) to an SSH endpoint and an open host.

The private key is read here, from the workspace file or the secret variable the droplet
names, and added to the workspace's secrets, so it is masked wherever text is printed or
stored; the door only ever names where it came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runner.connections import Connections
from runner.deploy.settings import DropletSettings, KeyRef
from runner.errors import ProviderError, StepFailed
from runner.providers.ssh import Endpoint, Host, PrivateKey, Trust, open_host
from runner.workspace import Workspace


@dataclass(frozen=True)
class Droplet:
    """A droplet as deployments see it: from the outputs its apply recorded."""

    name: str
    address: str
    port: int
    user: str
    ssh_key: dict[str, str]
    host_key: str
    remote_dir: str
    capacity: int
    docker: bool

    @classmethod
    def from_outputs(cls, name: str, outputs: Any) -> Droplet:
        if not isinstance(outputs, Mapping) or not outputs.get("host_key"):
            raise StepFailed(f"droplet.{name} is not recorded: apply it first",
                             retryable=False)
        return cls(name=name, address=str(outputs["address"]), port=int(outputs["port"]),
                   user=str(outputs["user"]), ssh_key=dict(outputs["ssh_key"]),
                   host_key=str(outputs["host_key"]), remote_dir=str(outputs["remote_dir"]),
                   capacity=int(outputs["capacity"]), docker=bool(outputs.get("docker", True)))

    @property
    def where(self) -> str:
        return f"{self.user}@{self.address}:{self.port}"


def private_key(ws: Workspace, ref: KeyRef | Mapping[str, Any]) -> PrivateKey:
    model = ref if isinstance(ref, KeyRef) else KeyRef.model_validate(dict(ref))
    if model.var is not None:
        text = ws.secret(model.var, "ssh_key.var", "SSH private key")
        origin = f"variable {model.var}"
    else:
        assert model.path is not None
        path = ws.resolve(model.path, "ssh_key.path")
        try:
            text = path.read_text()
        except OSError as exc:
            raise ProviderError(f"the private key file {model.path} cannot be read: "
                                f"{exc.strerror}") from None
        origin = f"file {model.path}"
    if text not in ws.secrets:
        ws.secrets.append(text)
    return PrivateKey(text, origin)


def trust_of(ws: Workspace, settings: DropletSettings, pinned: str | None) -> Trust:
    """What the droplet's settings trust; a key taken with accept_new stays pinned after."""
    if settings.host_key:
        return Trust(host_key=settings.host_key)
    if settings.known_hosts:
        return Trust(known_hosts=ws.resolve(settings.known_hosts, "known_hosts"))
    return Trust(host_key=pinned) if pinned else Trust(accept_new=True)


def settings_endpoint(ws: Workspace, settings: DropletSettings, pinned: str | None) -> Endpoint:
    return Endpoint(settings.address, settings.port, settings.user,
                    trust_of(ws, settings, pinned), private_key(ws, settings.ssh_key))


def droplet_endpoint(ws: Workspace, droplet: Droplet) -> Endpoint:
    """Deployments trust the key their droplet checked and recorded."""
    return Endpoint(droplet.address, droplet.port, droplet.user, Trust(host_key=droplet.host_key),
                    private_key(ws, droplet.ssh_key))


def host(ws: Workspace, connections: Connections, endpoint: Endpoint) -> Host:
    """The run's connection to this endpoint (made on its first use)."""
    return connections.get("ssh", endpoint.connection_key(),
                           lambda: open_host(endpoint, ws.config.ssh))
