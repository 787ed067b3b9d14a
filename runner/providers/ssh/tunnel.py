"""A droplet's Docker engine, reached through the SSH door: Docker's ssh:// transport is a byte
stream to `docker system dial-stdio` on the host, one per API connection. This is that
transport over the door's own connections (the host key checked as the spec says, the key from
the workspace's secret), offered on a private local unix socket, so the Docker door talks to a
remote engine exactly as to a local one (`unix://<path>`) and never reads ~/.ssh.

Each stream is a session of an SSH connection, and sshd allows only so many sessions on one
connection (OpenSSH's MaxSessions, 10 by default), while the Docker client opens as many API
connections as its callers need at once (a grading's output stream holds one for as long as
the grading runs). So the tunnel carries at most `per_connection` streams on each connection
and opens another connection, through the same checked door, when they are all full; a stream
is never refused or kept waiting for a session.

(docker-py's own ssh:// client would open its own SSH connection with its own idea of host
keys; this keeps the host-key rules of the door.)"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from runner.providers.ssh.door import Host, Stream

DIAL = "docker system dial-stdio"
CHUNK = 64 * 1024


class DockerTunnel:
    """`url` is a local `unix://` socket carrying each connection to the host's engine over
    hosts that `connect` opens (each connected on its first use, closed with the tunnel)."""

    def __init__(self, connect: Callable[[], Host], per_connection: int = 8,
                 command: str = DIAL):
        self.connect, self.per_connection, self.command = connect, max(1, per_connection), command
        self._lock = threading.Lock()
        self._hosts: list[Host] = []
        self._streams: dict[int, int] = {}  # index in _hosts -> streams it carries now
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

    @property
    def connections(self) -> int:
        """How many SSH connections the tunnel has opened."""
        with self._lock:
            return len(self._hosts)

    @property
    def streams(self) -> int:
        """How many streams it carries now."""
        with self._lock:
            return sum(self._streams.values())

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._carry, args=(conn,), daemon=True).start()

    def _take(self) -> tuple[int, Host]:
        """A connection with a free session (a new one when every one is full)."""
        with self._lock:
            for index, host in enumerate(self._hosts):
                if self._streams[index] < self.per_connection:
                    self._streams[index] += 1
                    return index, host
            self._hosts.append(self.connect())
            index = len(self._hosts) - 1
            self._streams[index] = 1
            return index, self._hosts[index]

    def _give_back(self, index: int) -> None:
        with self._lock:
            if index in self._streams:  # not after close
                self._streams[index] -= 1

    def _carry(self, conn: socket.socket) -> None:
        index, host = self._take()
        try:
            try:
                stream = host.dial(self.command)
            except Exception:  # noqa: BLE001 - the client sees its connection close
                conn.close()
                return
            upstream = threading.Thread(target=_up, args=(conn, stream), daemon=True)
            upstream.start()
            _down(stream, conn)
            upstream.join(timeout=5)
        finally:
            self._give_back(index)

    def close(self) -> None:
        self._closed.set()
        self._server.close()
        with self._lock:
            hosts, self._hosts, self._streams = self._hosts, [], {}
        for host in hosts:
            host.close()
        shutil.rmtree(self._folder, ignore_errors=True)


def _up(conn: socket.socket, stream: Stream) -> None:
    """Local client -> remote engine; the client's end of writing ends the remote stdin."""
    try:
        while data := conn.recv(CHUNK):
            stream.sendall(data)
        stream.shutdown_write()
    except Exception:  # noqa: BLE001 - either end went away (paramiko raises EOFError too)
        stream.close()


def _down(stream: Stream, conn: socket.socket) -> None:
    """Remote engine -> local client, until the remote command ends."""
    try:
        while data := stream.recv(CHUNK):
            conn.sendall(data)
    except Exception:  # noqa: BLE001 - either end went away
        pass
    finally:
        # shutdown, not just close: `_up` is blocked in conn.recv, and a socket closed under a
        # blocked reader stays open in the kernel, so the client would never see the end of a
        # stream the engine ended (an exec's output, whose end is the connection's end)
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)
        conn.close()
        with contextlib.suppress(Exception):  # paramiko raises EOFError when its connection died
            stream.close()
