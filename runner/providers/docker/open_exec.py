"""A process started in a container ahead of need, its stdin held open: starting a process in
a container (`docker exec`: the engine, containerd and runc in turn) costs tens of milliseconds,
more on a busy machine, and is paid while nothing waits for it. Its input is sent later, in one
piece, followed by end of file; its output is read as it comes.

Only over a socket the engine's hijacked stream can be half-closed on (a local or TCP engine);
`is_openable` says so."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

from runner.errors import StepFailed


class OpenExec:
    """An exec started with its stdin open and its output not read yet. `feed` once; `close`
    when it is not needed any more (the container going away ends it too)."""

    def __init__(self, exec_id: str, stream: Any):
        self.exec_id = exec_id
        self._stream = stream  # the SDK's hijacked connection (socket.SocketIO)
        self._fed = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Send `data` as its whole stdin, then end of file; its output (stdout and stderr
        together) as it comes."""
        from docker.utils.socket import frames_iter

        if self._fed:
            raise StepFailed(f"exec {self.exec_id[:12]} was fed already")
        self._fed = True
        raw: socket.socket = self._stream._sock
        try:
            raw.settimeout(None)  # a test may print nothing for longer than the API timeout
            raw.sendall(data)
            raw.shutdown(socket.SHUT_WR)
        except OSError as exc:
            raise StepFailed(f"cannot send the script to exec {self.exec_id[:12]}: {exc}") \
                from None
        return (chunk for _, chunk in frames_iter(self._stream, tty=False) if chunk)

    def close(self) -> None:
        try:
            self._stream.close()
        except OSError:
            pass  # closed already


def is_openable(stream: Any) -> bool:
    """Whether the engine handed a stream `OpenExec` can half-close (not an SSH channel)."""
    return isinstance(getattr(stream, "_sock", None), socket.socket)
