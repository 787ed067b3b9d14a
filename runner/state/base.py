"""What the state records, and the protocol every backend implements."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from json.scanner import make_scanner
from typing import Any, Protocol

from runner.errors import StateError, StateLocked
from runner.fingerprint import OUTPUTS_MEMO
from runner.lazy import LazyFields, may_wait


def now_iso() -> str:
    return _iso(time.time())


def _iso(ts: float) -> str:
    # whole milliseconds, truncated: rounding .9996 up to ".000" would put the time a second
    # early, and times of one run must keep their order
    ms = int(ts * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


# facts kept by apply itself: {"run", "action", "since"} of a change whose kind began to act,
# settled by the commit (or removal) of that address; one left behind means that run died in
# the middle of it
INTENTS = "taskform.intent"


@may_wait("fingerprint", "settings", "outputs")  # see `stored_record`
@dataclass(frozen=True)
class Record(LazyFields):
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

    def _compute(self, name: str, pending: Any) -> Any:
        # see `stored_record`: the outputs alone, or the fingerprint and settings together
        if name == "outputs":
            return stored_json(pending, self.address, "outputs")
        fingerprint, settings = stored_values(pending, self.address, "fingerprint and settings",
                                              (2,))
        object.__setattr__(self, "fingerprint", fingerprint)
        object.__setattr__(self, "settings", settings)
        return fingerprint if name == "fingerprint" else settings

    def outputs_memo(self) -> str | None:
        """Its fingerprint's `memo:outputs`, without decoding the fingerprint when the backend
        read the memo apart (`stored_record`)."""
        memo: str | None = self.__dict__.get("_outputs_memo")
        return memo if memo is not None else self.fingerprint.get(OUTPUTS_MEMO)


# json.loads's own scanner, without its three calls (typeshed types the argument as a scanner)
_SCAN = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def stored_json(text: str, address: str, what: str) -> Any:
    """JSON as a backend stored it; a state edited by hand into something else is a StateError
    naming the record, not a traceback."""
    try:  # a plan reads thousands: what taskform wrote is one value from its first character
        value, end = _SCAN(text, 0)
        if end == len(text):
            return value
    except (StopIteration, ValueError):
        pass
    try:  # anything else is read, or refused, exactly as json.loads does
        return json.loads(text)
    except ValueError as exc:
        raise _damaged(address, f"its {what} cannot be read as JSON ({exc})") from None


def stored_values(text: str, address: str, what: str, counts: tuple[int, ...]) -> list[Any]:
    """The values of columns a backend joined into one JSON array (`[a,b,...]`), as many as
    one of `counts`; a column edited into a fragment that adds or joins values is damage too."""
    values = stored_json(text, address, what)
    if not isinstance(values, list) or len(values) not in counts:
        raise _damaged(address, f"its {what} are not one JSON value each")
    return values


def _damaged(address: str, problem: str) -> StateError:
    return StateError(f"the state's record of {address} is damaged: {problem}; restore it from "
                      f"a backup or `taskform state rm {address}`")


def stored_record(fields: dict[str, Any], outputs: str, fingerprint_and_settings: str | None,
                  outputs_memo: str | None) -> Record:
    """A record as a backend read it: `fields` (taken, not copied), its outputs kept as the
    stored JSON text until something reads them, and so its fingerprint and settings (one JSON
    array of the two) when the backend gives them so: an expansion's child's, whose
    `outputs_memo` it reads apart. A no-op plan of a graded set's 5,000 cells reads nothing
    else of them. (What `lazily` does, without its copies: a state of 5,000 records.)"""
    pending = {"outputs": outputs}
    if fingerprint_and_settings is not None:
        pending["fingerprint"] = pending["settings"] = fingerprint_and_settings
    if len(fields) + len(pending) != _RECORD_FIELDS:
        raise TypeError(f"stored_record: {sorted(fields)} and {sorted(pending)} are not a "
                        "record's fields")
    fields["_pending"] = pending
    if outputs_memo is not None:
        fields["_outputs_memo"] = outputs_memo
    record = object.__new__(Record)
    object.__setattr__(record, "__dict__", fields)
    return record


_RECORD_FIELDS = len(Record.__dataclass_fields__)


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


def current_user() -> str:
    import getpass  # where used: its terminal handling costs every command's start

    return getpass.getuser()


def host_name() -> str:
    """This host's name, as `socket.gethostname()` gives it, without importing sockets."""
    return os.uname().nodename


def new_lock_info(run_id: str, operation: str) -> LockInfo:
    pid = os.getpid()
    return LockInfo(lock_id=uuid.uuid4().hex[:12], run_id=run_id, operation=operation,
                    user=current_user(), host=host_name(), pid=pid,
                    pid_start=process_start(pid), since=now_iso())


def holder_is_gone(info: LockInfo) -> bool:
    """True only when the holder ran on this host and its process no longer exists."""
    if info.host != host_name():
        return False
    start = process_start(info.pid)
    return not start or (bool(info.pid_start) and start != info.pid_start)


def check_fence(held: str, current: LockInfo | None) -> None:
    """Refuse a write by a run whose lock `held` is no longer the state's lock."""
    if current is None or current.lock_id != held:
        now = f"it is now held by {current.describe()}" if current else "the state is unlocked"
        raise StateLocked(f"this run's state lock {held} was removed (force-unlock); {now}. "
                          "Nothing more is recorded by this run: make a new plan")


def new_run_id() -> str:
    return time.strftime("r-%Y%m%d-%H%M%S-", time.gmtime()) + uuid.uuid4().hex[:6]


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    command: str
    user: str = field(default_factory=lambda: current_user())
    host: str = field(default_factory=lambda: host_name())
    pid: int = field(default_factory=os.getpid)


class Facts(Protocol):
    """What a kind remembers besides its record's outputs: facts that must outlive the record
    (a task pool's next id survives the pool's destruction) or a failed apply (scenarios already
    accepted). Kept in the state store, so every runner sharing the state sees the same ones.
    `namespace` says what the fact is (`task_pool.next_id`); `key` is the full address of the
    resource it belongs to. Values are JSON."""

    def get(self, namespace: str, key: str) -> Any | None:
        """The value stored, or None."""
        ...

    def put(self, namespace: str, key: str, value: Any | None) -> None:
        """Store `value`; None forgets the fact."""
        ...

    def next_id(self, namespace: str, key: str, *, count: int = 1, floor: int = 0) -> int:
        """Hand out `count` consecutive ids in one transaction and return the first: the larger
        of the stored next id (0 when none) and `floor`. The stored next id becomes first +
        count, so it never goes down, and no two callers ever get the same id. `count=0` only
        raises the stored id to `floor` (to cover ids already in use) and returns it."""
        ...


class MemoryFacts:
    """Facts in a dict: what a context holds when no state store is behind it (tests, tools)."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def get(self, namespace: str, key: str) -> Any | None:
        return self.values.get((namespace, key))

    def put(self, namespace: str, key: str, value: Any | None) -> None:
        with self._lock:
            if value is None:
                self.values.pop((namespace, key), None)
            else:
                self.values[(namespace, key)] = value

    def next_id(self, namespace: str, key: str, *, count: int = 1, floor: int = 0) -> int:
        with self._lock:
            first = max(stored_id(namespace, key, self.values.get((namespace, key))), floor)
            self.values[(namespace, key)] = first + count
            return first


def stored_id(namespace: str, key: str, value: Any) -> int:
    """The next id a fact holds (0 when none); anything but a whole number is an error."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise StateError(f"fact {namespace} of {key} holds {value!r}, not a next id")
    return value


def ids_event(event: Event, namespace: str, first: int, count: int) -> Event:
    """The history line of a `next_id`: what was handed out and where the next id now is (then
    the event's own message, if any)."""
    handed = f"handed out {first}..{first + count - 1}, " if count else ""
    told = f" {event.message}" if event.message else ""
    return replace(event, message=f"{namespace}: {handed}next id {first + count}{told}",
                   data={**event.data, "namespace": namespace, "first": first, "count": count})


@dataclass(frozen=True)
class FactRow:
    """One stored fact as a backend keeps it, for moving a state elsewhere."""

    namespace: str
    key: str
    value: Any
    run_id: str
    updated_at: str


@dataclass(frozen=True)
class StateDump:
    """Everything a workspace's state holds but its lock: what `state migrate` copies. Records
    by address, facts by (namespace, key), runs and events oldest first."""

    serial: int
    records: tuple[Record, ...] = ()
    runs: tuple[dict[str, Any], ...] = ()
    events: tuple[Event, ...] = ()
    facts: tuple[FactRow, ...] = ()

    def is_empty(self) -> bool:
        return not (self.serial or self.records or self.runs or self.events or self.facts)

    def counts(self) -> str:
        def n(items: tuple[Any, ...], word: str) -> str:
            return f"{len(items)} {word}{'' if len(items) == 1 else 's'}"
        return (f"{n(self.records, 'record')}, {n(self.runs, 'run')}, {n(self.events, 'event')} "
                f"and {n(self.facts, 'fact')} (state version {self.serial})")


class StateStore(Protocol):
    """A journal of records: one transaction per resource, never a whole rewrite.

    Besides the records: `serial` counts committed changes (a saved plan is bound to it);
    `events` is the append-only history (oldest first, the last `limit`, optionally of one
    address or run); `runs` the runs, newest first; the lock admits one writer at a time and
    names its holder; facts are what kinds remember (see `Facts`), each change of one bumping
    the serial and writing its event in the same transaction. A backend refuses a schema newer
    than it knows, with upgrade advice, and migrates an older one when opened.

    Fencing: once a store has taken the lock, its writes of records, events and facts are
    refused (StateLocked, see `check_fence`) if that lock was removed meanwhile (force-unlock),
    so a run that lost the lock cannot overwrite the work of the one that took it."""

    def records(self) -> dict[str, Record]: ...
    def serial(self) -> int: ...
    # commit and remove settle the address's intent (INTENTS) in the same transaction
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

    def fact(self, namespace: str, key: str) -> Any | None:
        """The fact stored under (namespace, key), or None."""
        ...

    def facts(self, namespace: str) -> dict[str, Any]:
        """Every fact of a namespace, by key."""
        ...

    def set_fact(self, namespace: str, key: str, value: Any | None, event: Event) -> None:
        """Store a JSON value (None deletes it) and its event in one transaction; storing what
        is already there changes nothing and writes no event."""
        ...

    def next_id(self, namespace: str, key: str, event: Event, *, count: int = 1,
                floor: int = 0) -> int:
        """`Facts.next_id`, atomic across threads and processes sharing the state; the event
        is written through `ids_event` unless nothing changed."""
        ...

    def dump(self) -> StateDump:
        """Everything stored, read in one consistent snapshot."""
        ...

    def restore(self, dump: StateDump) -> None:
        """Write a dump into this (empty) state in one transaction: records, runs, events and
        facts as they were, and the serial."""
        ...

    def close(self) -> None: ...
