"""A droplet's Docker engine, as the Docker door sees it: Docker's own ssh:// transport carried
by the SSH door (`providers/ssh/tunnel.py`) under the droplet's host-key rules (the key its apply
checked and recorded), offered as a private local socket to a `DockerEngine` named after the
droplet. One tunnel and one engine per droplet and run, shared by every step that uses it."""

from __future__ import annotations

from runner.connections import Connections
from runner.deploy.endpoint import Droplet, droplet_endpoint
from runner.errors import StepFailed
from runner.providers.docker.engine import DockerEngine
from runner.providers.ssh import open_host
from runner.providers.ssh.tunnel import DockerTunnel
from runner.workspace import Workspace


def droplet_engine(ws: Workspace, connections: Connections, droplet: Droplet,
                   pool_size: int) -> DockerEngine:
    """The Docker engine on `droplet`, connected on its first use."""
    if not droplet.docker:
        raise StepFailed(f"droplet {droplet.name} is declared with docker: false: it has no "
                         "engine to use", retryable=False)
    endpoint = droplet_endpoint(ws, droplet)
    key = endpoint.connection_key()
    tunnel = connections.get("docker-tunnel", key, lambda: DockerTunnel(
        lambda: open_host(endpoint, ws.config.ssh), ws.config.ssh.max_sessions))
    return connections.get("docker", f"droplet {droplet.name}|{key}", lambda: DockerEngine(
        tunnel.url, pool_size, name=f"the Docker engine of droplet {droplet.name} "
        f"({droplet.where})", advice=f"check that Docker runs on {droplet.where} and that "
        f"`docker version` answers in an SSH session of {droplet.user} there"))
