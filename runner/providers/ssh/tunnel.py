"""A droplet's Docker engine, reached through the SSH door: Docker's ssh:// transport is a byte
stream to `docker system dial-stdio` on the host, one per API connection. This is that
transport over the door's own connection (the host key checked as the spec says, the key from
the workspace's secret), offered on a private local unix socket, so the Docker door talks to a
remote engine exactly as to a local one (`unix://<path>`) and never reads ~/.ssh.

(docker-py's own ssh:// client would open its own SSH connection with its own idea of host
keys; this keeps one checked connection per droplet and run.)"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

from runner.providers.ssh.door import Host, Stream

DIAL = "docker system dial-stdio"
CHUNK = 64 * 1024


class DockerTunnel:
    """`url` is a local `unix://` socket carrying each connection to the host's engine."""

    def __init__(self, host: Host, command: str = DIAL):
        self.host, self.command = host, command
        self._folder = Path(tempfile.mkdtemp(prefix="tf-docker-ssh-"))  # 0700: only us
        self.path = self._folder / "docker.sock"
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(self.path))
        os.chmod(self.path, 0o600)
        self._server.listen(64)
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name="docker-ssh-tunnel", daemon=True).start()

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._carry, args=(conn,), daemon=True).start()

    def _carry(self, conn: socket.socket) -> None:
        try:
            stream = self.host.dial(self.command)
        except Exception:  # noqa: BLE001 - the client sees its connection close
            conn.close()
            return
        upstream = threading.Thread(target=_up, args=(conn, stream), daemon=True)
        upstream.start()
        _down(stream, conn)
        upstream.join(timeout=5)

    def close(self) -> None:
        self._closed.set()
        self._server.close()
        shutil.rmtree(self._folder, ignore_errors=True)


def _up(conn: socket.socket, stream: Stream) -> None:
    """Local client -> remote engine; the client's end of writing ends the remote stdin."""
    try:
        while data := conn.recv(CHUNK):
            stream.sendall(data)
        stream.shutdown_write()
    except OSError:
        stream.close()


def _down(stream: Stream, conn: socket.socket) -> None:
    """Remote engine -> local client, until the remote command ends."""
    try:
        while data := stream.recv(CHUNK):
            conn.sendall(data)
    except OSError:
        pass
    finally:
        stream.close()
        conn.close()
