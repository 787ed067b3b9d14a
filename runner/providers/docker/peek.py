"""Reaching a local engine without the Docker SDK: the two questions a plan asks most (inspect
an image, inspect a container) as one HTTP GET each over the engine's Unix socket, and the
requests a fresh grading sandbox makes many times a run (create, attach, start, wait, remove,
list: `request` and `upgrade`).

Importing the SDK costs a plan about 0.2 s (requests, urllib3 and paramiko come with it), more
than everything else a no-op plan of a graded set does; refreshing needs only these two reads.
Each request through the SDK also costs about 5 ms of Python (requests' sessions, adapters and
hooks) against well under 1 ms here, paid four or five times per grading on a machine the
gradings share. Everything else still goes through the SDK (`engine.DockerEngine`). The answers
are the engine's own JSON, the same the SDK's `attrs` hold."""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any
from urllib.parse import quote

NOT_FOUND = 404
HEADER_LIMIT = 64 * 1024  # bytes of an upgrade's status line and headers


class Unreachable(Exception):
    """The socket does not answer (missing, refused, timed out, hung up): `cause` says why."""

    def __init__(self, cause: Exception):
        super().__init__(str(cause))
        self.cause = cause


class Refused(Exception):
    """The engine answered with an error status; `message` is its explanation."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def socket_path(address: str) -> str | None:
    """The socket's path for a `unix://` engine address; None for any other engine."""
    return address[len("unix://"):] if address.startswith("unix:///") else None


def inspect(path: str, what: str, name: str, timeout: float = 60.0) -> dict[str, Any] | None:
    """`GET /<what>/<name>/json` (what: "images" or "containers"): the engine's answer, or None
    when it has no such object. Raise Unreachable or Refused."""
    status, answer = request(path, "GET", f"/{what}/{quote(name, safe='/:@')}/json",
                             timeout=timeout, accept=(NOT_FOUND,))
    if status == NOT_FOUND:
        return None
    if not isinstance(answer, dict):
        raise Refused(status, "the engine's answer is not an object")
    return answer


def request(path: str, method: str, url: str, body: Any = None, *, timeout: float = 60.0,
            accept: tuple[int, ...] = ()) -> tuple[int, Any]:
    """One request (`body` sent as JSON); the status and the decoded answer (None when empty).
    Raise Unreachable, or Refused for an error status not in `accept`."""
    connection = _UnixConnection(path, timeout)
    data = None if body is None else json.dumps(body).encode()
    headers = {"Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, url, body=data, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise Unreachable(exc) from None
    finally:
        connection.close()
    try:
        answer = json.loads(raw) if raw else None
    except ValueError:
        answer = None
    if response.status >= 400 and response.status not in accept:
        message = answer.get("message") if isinstance(answer, dict) else None
        raise Refused(response.status, str(message or raw[:200].decode(errors="replace")
                                           or response.reason))
    if raw and answer is None:
        raise Refused(response.status, raw[:200].decode(errors="replace"))
    return response.status, answer


def upgrade(path: str, url: str, timeout: float = 60.0) -> tuple[socket.socket, bytes]:
    """`POST url` asking the engine to hand the connection over (`Upgrade: tcp`, as attach and
    exec start do): the socket, and what of the stream came with the answer's headers. Raise
    Unreachable or Refused."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    head = b""
    try:
        sock.connect(path)
        sock.sendall(f"POST {url} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n"
                     "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n".encode())
        while b"\r\n\r\n" not in head:
            data = sock.recv(4096)
            if not data or len(head) > HEADER_LIMIT:
                raise http.client.BadStatusLine(head[:200].decode(errors="replace"))
            head += data
    except (OSError, http.client.HTTPException) as exc:
        sock.close()
        raise Unreachable(exc) from None
    head, _, rest = head.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode(errors="replace")
    parts = status_line.split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    if status not in (101, 200):
        sock.close()
        try:
            message = json.loads(rest).get("message")
        except (ValueError, AttributeError):
            message = None
        if not status:
            raise Unreachable(http.client.BadStatusLine(status_line))
        raise Refused(status, str(message or rest[:200].decode(errors="replace") or status_line))
    return sock, rest
