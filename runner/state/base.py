"""What the state records, and the protocol every backend implements."""

from __future__ import annotations

import getpass
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol


def now_iso() -> str:
    return _iso(time.time())


def _iso(ts: float) -> str:
    frac = f"{ts % 1:.3f}"[1:]
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + frac + "Z"


@dataclass(frozen=True)
class Record:
    """What apply recorded for one address."""

    address: str
    kind: str
    status: str
    fingerprint: dict[str, str]
    settings: Any
    outputs: dict[str, Any]
    depends_on: tuple[str, ...] = ()
    parent: str | None = None
    prevent_destroy: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    output: str | None = None  # what a failed step printed, kept apart from its error message
    run_id: str = ""
    created_at: str = ""
    updated_at: str = ""


@dataclass(frozen=True)
class Event:
    """One line of the append-only history."""

    run_id: str
    event: str
    address: str | None = None
    message: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    ts: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class LockInfo:
    """Who holds the state lock."""

    lock_id: str
    run_id: str
    operation: str
    user: str
    host: str
    pid: int
    pid_start: str
    since: str

    def describe(self) -> str:
        return (f"lock {self.lock_id} held by {self.user}@{self.host} (pid {self.pid}) "
                f"for `{self.operation}` since {self.since}, run {self.run_id}")


def process_start(pid: int) -> str:
    """The start time of a process (from /proc), to tell a live holder from a reused pid."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def new_lock_info(run_id: str, operation: str) -> LockInfo:
    pid = os.getpid()
    return LockInfo(lock_id=uuid.uuid4().hex[:12], run_id=run_id, operation=operation,
                    user=getpass.getuser(), host=socket.gethostname(), pid=pid,
                    pid_start=process_start(pid), since=now_iso())


def holder_is_gone(info: LockInfo) -> bool:
    """True only when the holder ran on this host and its process no longer exists."""
    if info.host != socket.gethostname():
        return False
    start = process_start(info.pid)
    return not start or (bool(info.pid_start) and start != info.pid_start)


def new_run_id() -> str:
    return time.strftime("r-%Y%m%d-%H%M%S-", time.gmtime()) + uuid.uuid4().hex[:6]


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    command: str
    user: str = field(default_factory=getpass.getuser)
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)


class StateStore(Protocol):
    """A journal of records: one transaction per resource, never a whole rewrite."""

    def records(self) -> dict[str, Record]: ...
    def serial(self) -> int: ...
    def commit(self, record: Record, event: Event) -> None: ...
    def remove(self, address: str, event: Event) -> None: ...
    def append(self, event: Event) -> None: ...
    def events(self, address: str | None = None, run_id: str | None = None,
               limit: int = 100) -> list[Event]: ...
    def begin_run(self, run: RunInfo) -> None: ...
    def finish_run(self, run_id: str, status: str, summary: dict[str, Any]) -> None: ...
    def runs(self, limit: int = 20) -> list[dict[str, Any]]: ...
    def acquire_lock(self, info: LockInfo, timeout: float) -> LockInfo | None: ...
    def release_lock(self, lock_id: str) -> None: ...
    def current_lock(self) -> LockInfo | None: ...
    def force_unlock(self, lock_id: str) -> LockInfo: ...
    def close(self) -> None: ...
