"""The SSH door: hosts reached over SSH with their keys checked, for droplets (commands, files)
and, through `Host.dial`, the Docker engines on them (Docker's ssh:// transport is a stream to
`docker system dial-stdio` on the host; see `tunnel.py`).

Kinds open a host through their context's connections (one per host, user, trust and key in a
run); nothing here knows a droplet or a deployment. paramiko is imported only when a host is
first used."""

from __future__ import annotations

from runner.providers.ssh.door import (
    CommandResult,
    Endpoint,
    Host,
    HostKeyMismatch,
    PrivateKey,
    RemoteFiles,
    Stream,
    Trust,
)
from runner.providers.ssh.settings import SshSettings

__all__ = ["CommandResult", "Endpoint", "Host", "HostKeyMismatch", "PrivateKey", "RemoteFiles",
           "SshSettings", "Stream", "Trust", "open_host"]


def open_host(endpoint: Endpoint, settings: SshSettings) -> Host:
    """A host, connected on its first use (not here)."""
    from runner.providers.ssh.client import SshHost

    return SshHost(endpoint, settings)
