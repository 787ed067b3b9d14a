"""A process started in a container ahead of need, its stdin held open: starting a process in
a container (the engine, containerd and runc in turn) costs tens of milliseconds, more on a busy
machine, and is paid while nothing waits for it. Its input is sent later, in one piece,
followed by end of file; its output is read as it comes.

Two kinds: an exec started in a running container (`docker exec -i`), or the container's own
main process, attached to before it started (`docker run -i`): no exec at all, and the
container ends when it does.

Only over a socket the engine's hijacked stream can be half-closed on (a local or TCP engine);
`is_openable` says so. The output is the engine's multiplexed stream (an 8-byte header, then
the frame: `frames`), read in large pieces straight from the socket."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from typing import Any

from runner.errors import StepFailed

FRAME_HEADER = struct.Struct(">BxxxL")  # stream (0 stdin, 1 stdout, 2 stderr), size
READ_SIZE = 64 * 1024


class OpenProcess:
    """A process started with its stdin open and its output not read yet: the exec `exec_id`
    in `container`, or (`exec_id` None) the container's main process, on the connection the
    engine handed over (`sock`; `early`: what of its stream was read with the answer's
    headers; `holder`: the SDK's object that owns the socket, if any). `feed` once; `close`
    when it is not needed any more (the container going away ends it too)."""

    def __init__(self, sock: socket.socket, container: str, exec_id: str | None = None, *,
                 early: bytes = b"", holder: Any = None):
        self.container, self.exec_id = container, exec_id
        self._sock, self._early, self._holder = sock, early, holder
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
        if self._fed:
            raise StepFailed(f"{self.what} was fed already")
        self._fed = True
        raw = self._sock
        try:
            raw.settimeout(None)  # a test may print nothing for longer than the API timeout
            raw.sendall(data)
            raw.shutdown(socket.SHUT_WR)
        except OSError as exc:
            raise StepFailed(f"cannot send the script to {self.what}: {exc}") from None
        return frames(raw, self._early)

    def close(self) -> None:
        for closing in (self._holder, self._sock):
            try:
                if closing is not None:
                    closing.close()
            except OSError:
                pass  # closed already


def frames(sock: socket.socket, early: bytes = b"") -> Iterator[bytes]:
    """The payloads of a multiplexed stream's frames (stdout and stderr alike, none empty) until
    the engine ends it; a frame cut short by the end is given as far as it came."""
    buffer = bytearray(early)
    ended = False
    while not ended:
        data = sock.recv(READ_SIZE)
        ended = not data
        buffer += data
        start = 0
        while len(buffer) - start >= FRAME_HEADER.size:
            _, size = FRAME_HEADER.unpack_from(buffer, start)
            end = start + FRAME_HEADER.size + size
            if end > len(buffer) and not ended:
                break
            if size:
                yield bytes(buffer[start + FRAME_HEADER.size:end])
            start = min(end, len(buffer))
        del buffer[:start]


def is_openable(stream: Any) -> bool:
    """Whether the SDK handed a stream `OpenProcess` can half-close (not an SSH channel)."""
    return isinstance(getattr(stream, "_sock", None), socket.socket)


def of_sdk(stream: Any, container: str, exec_id: str | None = None) -> OpenProcess:
    """The `OpenProcess` on a stream the SDK hijacked (`is_openable`)."""
    return OpenProcess(stream._sock, container, exec_id, holder=stream)
