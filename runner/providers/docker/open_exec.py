"""A process started in a container ahead of need, its stdin held open: starting a process in
a container (the engine, containerd and runc in turn) costs tens of milliseconds, more on a busy
machine, and is paid while nothing waits for it. Its input is sent later, in one piece,
followed by end of file; its output is read as it comes.

Two kinds: an exec started in a running container (`docker exec -i`), or the container's own
main process, attached to before it started (`docker run -i`): no exec at all, and the
container ends when it does.

Only over a socket the engine's hijacked stream can be half-closed on (a local or TCP engine);
`is_openable` says so."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

from runner.errors import StepFailed


class OpenProcess:
    """A process started with its stdin open and its output not read yet: the exec `exec_id`
    in `container`, or (`exec_id` None) the container's main process. `feed` once; `close` when
    it is not needed any more (the container going away ends it too)."""

    def __init__(self, stream: Any, container: str, exec_id: str | None = None):
        self.container, self.exec_id = container, exec_id
        self._stream = stream  # the SDK's hijacked connection (socket.SocketIO)
        self._fed = False

    @property
    def is_main(self) -> bool:
        """True for the container's main process: its end ends the container."""
        return self.exec_id is None

    @property
    def what(self) -> str:
        return f"exec {self.exec_id[:12]}" if self.exec_id else f"container {self.container[:12]}"

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Send `data` as its whole stdin, then end of file; its output (stdout and stderr
        together) as it comes."""
        from docker.utils.socket import frames_iter

        if self._fed:
            raise StepFailed(f"{self.what} was fed already")
        self._fed = True
        raw: socket.socket = self._stream._sock
        try:
            raw.settimeout(None)  # a test may print nothing for longer than the API timeout
            raw.sendall(data)
            raw.shutdown(socket.SHUT_WR)
        except OSError as exc:
            raise StepFailed(f"cannot send the script to {self.what}: {exc}") from None
        return (chunk for _, chunk in frames_iter(self._stream, tty=False) if chunk)

    def close(self) -> None:
        try:
            self._stream.close()
        except OSError:
            pass  # closed already


def is_openable(stream: Any) -> bool:
    """Whether the engine handed a stream `OpenProcess` can half-close (not an SSH channel)."""
    return isinstance(getattr(stream, "_sock", None), socket.socket)
