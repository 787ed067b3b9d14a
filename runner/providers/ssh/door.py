"""The SSH door's interface and value types: where a host is, how its key is trusted, which
private key logs in, and what a command gave back. Nothing here imports paramiko."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from runner.errors import ProviderError
from runner.providers.call import Call


@dataclass(frozen=True)
class Trust:
    """How the host's key is checked. Exactly one way: the one key it must present (`host_key`,
    a `ssh-ed25519 AAAA...` line), a known_hosts file, or `accept_new` (the key it presents is
    taken and reported; the caller pins it from then on). Nothing is ever read from ~/.ssh."""

    host_key: str | None = None
    known_hosts: Path | None = None
    accept_new: bool = False

    def describe(self) -> str:
        if self.host_key:
            return "the host_key setting"
        if self.known_hosts:
            return f"known_hosts file {self.known_hosts}"
        return "no key yet (accept_new)"


@dataclass(frozen=True)
class PrivateKey:
    """The private key that logs in, as text held in memory only. `origin` names where it came
    from (`file keys/id_ed25519`, `variable droplet_key`): the one thing messages may show."""

    text: str = field(repr=False)
    origin: str = ""

    def digest(self) -> str:
        """Tells two keys apart in memory (connection reuse); never printed or stored."""
        return hashlib.sha256(self.text.encode()).hexdigest()


@dataclass(frozen=True)
class Endpoint:
    """One SSH host: address, port, login user, how its key is trusted, the key that logs in."""

    address: str
    port: int
    user: str
    trust: Trust
    key: PrivateKey = field(repr=False)

    @property
    def name(self) -> str:
        return f"{self.user}@{self.address}:{self.port}"

    def connection_key(self) -> str:
        """One connection per (host, user, trust, key) in a run."""
        trust = f"{self.trust.host_key}|{self.trust.known_hosts}|{self.trust.accept_new}"
        return f"{self.name}|{hashlib.sha256(trust.encode()).hexdigest()[:16]}|" \
               f"{self.key.digest()[:16]}"


@dataclass(frozen=True)
class CommandResult:
    """What a remote command gave back: its exit code and the tails of its output streams."""

    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool
    seconds: float

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    def tail(self, lines: int = 20) -> str:
        """The last lines of stdout and stderr together, for a message or an output."""
        text = "\n".join(part for part in (self.stdout.rstrip(), self.stderr.rstrip()) if part)
        return "\n".join(text.splitlines()[-lines:])


class HostKeyMismatch(ProviderError):
    """The host presented a key other than the trusted one: refused, never connected."""


class Stream(Protocol):
    """A two-way byte stream (a channel to a remote command's stdin and stdout)."""

    def sendall(self, data: bytes) -> None: ...
    def recv(self, size: int) -> bytes: ...
    def shutdown_write(self) -> None: ...
    def close(self) -> None: ...


class RemoteFiles(Protocol):
    """File operations over one SFTP session. Paths are absolute on the host."""

    def read(self, path: str) -> bytes | None:
        """The file's bytes, or None when it does not exist."""
        ...

    def write(self, path: str, data: bytes, mode: int = 0o644) -> None:
        """Write whole: a temporary file renamed over `path`, so no reader sees half of it."""
        ...

    def upload(self, local: Path, path: str, mode: int) -> None:
        """Copy a local file whole, as `write` does."""
        ...

    def mkdirs(self, path: str) -> None: ...

    def listdir(self, path: str) -> list[str] | None:
        """Names in a directory, or None when it does not exist."""
        ...

    def exists(self, path: str) -> bool: ...

    def rename(self, old: str, new: str) -> bool:
        """Atomic rename; False (nothing changed) when `new` exists and is not an empty folder."""
        ...

    def remove(self, path: str) -> None:
        """Remove a file; nothing when it is already gone."""
        ...

    def rmdir(self, path: str) -> None:
        """Remove an empty folder; nothing when it is already gone."""
        ...


class Host(Protocol):
    """One SSH host, connected on first use and shared by a run."""

    @property
    def endpoint(self) -> Endpoint: ...

    def host_key(self) -> str:
        """The key line the host presented (`ssh-ed25519 AAAA...`), once connected."""
        ...

    def run(self, command: str, call: Call, *, timeout: float | None = None,
            env: Mapping[str, str] | None = None, stdin: bytes | None = None) -> CommandResult:
        """Run a shell command with a deadline enforced on the host (the whole process group
        is killed) and here; cancellation kills it too."""
        ...

    def files(self) -> AbstractContextManager[RemoteFiles]:
        """An SFTP session for a batch of file operations."""
        ...

    def dial(self, command: str) -> Stream:
        """A byte stream to a remote command's stdin and stdout (`docker system dial-stdio`
        gives a Docker engine's API): what Docker's ssh:// transport is made of."""
        ...

    def close(self) -> None: ...


def sha256_fingerprint(key_bytes: bytes) -> str:
    """OpenSSH's way of showing a key: `SHA256:` and unpadded base64 of its digest."""
    import base64

    return "SHA256:" + base64.b64encode(hashlib.sha256(key_bytes).digest()).decode().rstrip("=")


def key_line_fingerprint(line: str) -> str:
    """The SHA256 fingerprint of a `type base64` key line (the line itself when malformed)."""
    import base64
    import binascii

    parts = line.split()
    try:
        return sha256_fingerprint(base64.b64decode(parts[1], validate=True))
    except (IndexError, ValueError, binascii.Error):
        return line
