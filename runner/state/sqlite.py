"""The SQLite state backend: one file, WAL, one transaction per resource.

A SIGKILL at any moment leaves every committed resource readable: WAL with synchronous=NORMAL is
durable against a process crash, and nothing is ever rewritten whole.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.errors import StateError, StateLocked
from runner.fingerprint import OUTPUTS_MEMO
from runner.state.base import (
    INTENTS,
    Event,
    LockInfo,
    Record,
    RunInfo,
    StateDump,
    check_fence,
    holder_is_gone,
    ids_event,
    now_iso,
    stored_id,
    stored_record,
    stored_values,
)
from runner.state.sqlite_dump import dump_file, restore_file
from runner.state.sqlite_schema import MIGRATIONS

if TYPE_CHECKING:
    from runner.workspace import Workspace
    from runner.workspace_config import StateSettings

LOCK_POLL_SECONDS = 0.2
OPEN_TIMEOUT_SECONDS = 30.0

_RECORDS = (
    "SELECT address, kind, status, parent, prevent_destroy, error, output, run_id, created_at, "
    "updated_at, outputs, CASE WHEN parent IS NULL THEN '[' || depends_on || ',' || labels || "
    "',' || fingerprint || ',' || settings || ']' ELSE '[' || depends_on || ',' || labels || ']' "
    "END, CASE WHEN parent IS NOT NULL THEN '[' || fingerprint || ',' || settings || ']' END, "
    "CASE WHEN parent IS NULL THEN NULL WHEN json_valid(fingerprint) THEN json_extract("
    f"fingerprint, '$.\"{OUTPUTS_MEMO}\"') END FROM resources")


def open_sqlite(ws: Workspace, settings: StateSettings) -> SqliteState:
    """The backend `state.backend: sqlite` names: the file at `state.path` in the workspace."""
    return SqliteState(ws.resolve(settings.path, "state.path"))


def _private(path: Path) -> None:
    """The state holds outputs and history: only its owner reads it (SQLite gives its -wal and
    -shm files the database's mode). A file that exists is never opened here: closing any
    descriptor of a database drops every POSIX lock this process holds on it, which can
    corrupt it under another connection of the same process."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        return
    except FileExistsError:
        pass
    except OSError as exc:
        raise StateError(f"cannot create state {path}: {exc.strerror}") from None
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
    except OSError as exc:
        raise StateError(f"cannot open state {path}: {exc.strerror}") from None


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


class SqliteState:
    """The default backend (`.taskform/state.db`)."""

    def __init__(self, path: Path):
        self.path = path
        # apply's workers reach facts while its main thread commits: one connection, so one
        # transaction at a time (SQLite has no nested BEGIN)
        self._lock = threading.RLock()
        self._held: str | None = None  # the lock id this store took, for fencing
        path.parent.mkdir(parents=True, exist_ok=True)
        _private(path)
        deadline = time.monotonic() + OPEN_TIMEOUT_SECONDS
        while True:
            try:
                self.conn = sqlite3.connect(str(path), timeout=30, isolation_level=None,
                                            check_same_thread=False)
                self._prepare()
                return
            except sqlite3.OperationalError as exc:
                # two processes creating the file at once: switching to WAL does not wait
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise StateError(f"cannot open state {path}: {exc}") from None
                self.conn.close()
                time.sleep(0.05)
            except sqlite3.DatabaseError as exc:
                raise StateError(f"cannot open state {path}: {exc}") from None

    def _prepare(self) -> None:
        if self.conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StateError(f"state {self.path} has schema version {version}, newer than this "
                             f"taskform understands ({len(MIGRATIONS)}): upgrade taskform")
        if version == len(MIGRATIONS):
            return
        import sqlite_utils  # only when the schema must change: keeps plan start-up fast

        db = sqlite_utils.Database(self.conn)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            for step in MIGRATIONS[version:]:
                step(db)
            self.conn.execute(f"PRAGMA user_version={len(MIGRATIONS)}")
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    # -- records -------------------------------------------------------------------------

    def records(self) -> dict[str, Record]:
        # JSON columns joined into one array, one decode per row, but for an expansion's child
        # its fingerprint and settings apart, decoded when read, and its outputs memo read
        # apart: a plan that takes a recorded expansion reads nothing else of 5,000 children
        with self._lock:
            rows = self.conn.execute(_RECORDS).fetchall()
        out = {}
        for r in rows:
            decoded = stored_values(r[11], r[0], "fields", (2,) if r[12] else (4,))
            fields = {"address": r[0], "kind": r[1], "status": r[2], "depends_on":
                      tuple(decoded[0]), "parent": r[3], "prevent_destroy": bool(r[4]),
                      "labels": decoded[1], "error": r[5], "output": r[6], "run_id": r[7],
                      "created_at": r[8], "updated_at": r[9]}
            if r[12] is None:
                fields["fingerprint"], fields["settings"] = decoded[2:]
            memo = r[13] if isinstance(r[13], str) else None
            out[r[0]] = stored_record(fields, r[10], r[12], memo)
        return out

    def serial(self) -> int:
        with self._lock:
            row = self.conn.execute("SELECT value FROM meta WHERE key='serial'").fetchone()
        return int(row[0])

    def commit(self, record: Record, event: Event) -> None:
        with self._transaction(fenced=True):
            self.conn.execute(
                "INSERT INTO resources (address, kind, status, fingerprint, settings, outputs, "
                "depends_on, parent, prevent_destroy, labels, error, output, run_id, created_at, "
                "updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(address) DO UPDATE "
                "SET kind=excluded.kind, status=excluded.status, fingerprint=excluded.fingerprint,"
                " settings=excluded.settings, outputs=excluded.outputs, depends_on="
                "excluded.depends_on, parent=excluded.parent, prevent_destroy="
                "excluded.prevent_destroy, labels=excluded.labels, error=excluded.error, "
                "output=excluded.output, run_id=excluded.run_id, updated_at=excluded.updated_at",
                (record.address, record.kind, record.status, _dumps(record.fingerprint),
                 _dumps(record.settings), _dumps(record.outputs), _dumps(list(record.depends_on)),
                 record.parent, int(record.prevent_destroy), _dumps(record.labels), record.error,
                 record.output, record.run_id, record.created_at or record.updated_at, record.updated_at))
            self._settle(record.address)
            self._insert_event(event)
            self._bump()

    def remove(self, address: str, event: Event) -> None:
        with self._transaction(fenced=True):
            self.conn.execute("DELETE FROM resources WHERE address=?", (address,))
            self._settle(address)
            self._insert_event(event)
            self._bump()

    def _settle(self, address: str) -> None:
        self.conn.execute("DELETE FROM facts WHERE namespace=? AND key=?", (INTENTS, address))

    def _bump(self) -> None:
        self.conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='serial'")

    @contextmanager
    def _transaction(self, fenced: bool = False) -> Iterator[None]:
        """One write transaction. `fenced`: refused once this store's lock was taken from it
        (force-unlock), so a run that lost the lock records nothing more."""
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                if fenced and self._held is not None:
                    check_fence(self._held, self.current_lock())
                yield
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    # -- history -------------------------------------------------------------------------

    def append(self, event: Event) -> None:
        with self._transaction(fenced=True):
            self._insert_event(event)

    def _insert_event(self, e: Event) -> None:
        self.conn.execute("INSERT INTO events (run_id, ts, address, event, message, data) "
                          "VALUES (?,?,?,?,?,?)",
                          (e.run_id, e.ts, e.address, e.event, e.message, _dumps(e.data)))

    def events(self, address: str | None = None, run_id: str | None = None,
               limit: int = 100) -> list[Event]:
        where, args = [], []
        if address:
            where.append("address = ?")
            args.append(address)
        if run_id:
            where.append("run_id = ?")
            args.append(run_id)
        sql = "SELECT run_id, event, address, message, data, ts FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._lock:
            rows = self.conn.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
        return [Event(run_id=r[0], event=r[1], address=r[2], message=r[3], data=json.loads(r[4]),
                      ts=r[5]) for r in reversed(rows)]

    def begin_run(self, run: RunInfo) -> None:
        with self._transaction():
            self.conn.execute("INSERT INTO runs (id, command, started_at, status, user, host, pid,"
                              " summary) VALUES (?,?,?,?,?,?,?,?)",
                              (run.run_id, run.command, now_iso(), "running", run.user, run.host,
                               run.pid, "{}"))

    def finish_run(self, run_id: str, status: str, summary: dict[str, Any]) -> None:
        with self._transaction():
            self.conn.execute("UPDATE runs SET finished_at=?, status=?, summary=? WHERE id=?",
                              (now_iso(), status, _dumps(summary), run_id))

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        with self._lock:
            rows = self.conn.execute("SELECT id, command, started_at, finished_at, status, user, "
                                     "host, pid, summary FROM runs ORDER BY started_at DESC "
                                     "LIMIT ?", (limit,)).fetchall()
        keys = ("id", "command", "started_at", "finished_at", "status", "user", "host", "pid")
        return [dict(zip(keys, r[:8], strict=True), summary=json.loads(r[8] or "{}")) for r in rows]

    # -- lock ----------------------------------------------------------------------------

    def acquire_lock(self, info: LockInfo, timeout: float) -> LockInfo | None:
        """Take the lock, waiting up to `timeout` seconds; return a stale lock taken over."""
        deadline = time.monotonic() + timeout
        while True:
            with self._transaction():
                held = self.current_lock()
                if held is None or holder_is_gone(held):
                    self.conn.execute("INSERT OR REPLACE INTO lock (id, lock_id, run_id, "
                                      "operation, user, host, pid, pid_start, since) VALUES "
                                      "(1,?,?,?,?,?,?,?,?)",
                                      (info.lock_id, info.run_id, info.operation, info.user,
                                       info.host, info.pid, info.pid_start, info.since))
                    self._held = info.lock_id
                    return held
            if time.monotonic() >= deadline:
                waited = f" (waited {timeout:g}s)" if timeout else ""
                raise StateLocked(f"state is locked{waited}: {held.describe()}. Wait for it to "
                                  f"finish, retry with -lock-timeout, or if it is certainly dead "
                                  f"run `taskform force-unlock {held.lock_id}`")
            time.sleep(LOCK_POLL_SECONDS)

    def release_lock(self, lock_id: str) -> None:
        with self._transaction():
            self.conn.execute("DELETE FROM lock WHERE lock_id=?", (lock_id,))
        if self._held == lock_id:
            self._held = None

    def current_lock(self) -> LockInfo | None:
        with self._lock:
            row = self.conn.execute("SELECT lock_id, run_id, operation, user, host, pid, "
                                    "pid_start, since FROM lock WHERE id=1").fetchone()
        return LockInfo(*row) if row else None

    def force_unlock(self, lock_id: str) -> LockInfo:
        with self._transaction():
            held = self.current_lock()
            if held is None:
                raise StateError("the state is not locked")
            if held.lock_id != lock_id:
                raise StateError(f"lock ID {lock_id!r} does not match the current lock: "
                                 f"{held.describe()}")
            self.conn.execute("DELETE FROM lock WHERE lock_id=?", (lock_id,))
        return held

    # -- facts ---------------------------------------------------------------------------

    def facts(self, namespace: str) -> dict[str, Any]:
        with self._lock:
            rows = self.conn.execute("SELECT key, value FROM facts WHERE namespace=?",
                                     (namespace,)).fetchall()
        return {key: json.loads(value) for key, value in rows}

    def fact(self, namespace: str, key: str) -> Any | None:
        with self._lock:
            row = self.conn.execute("SELECT value FROM facts WHERE namespace=? AND key=?",
                                    (namespace, key)).fetchone()
        return json.loads(row[0]) if row else None

    def set_fact(self, namespace: str, key: str, value: Any | None, event: Event) -> None:
        with self._transaction(fenced=True):
            if self.fact(namespace, key) == value:
                return
            self._store_fact(namespace, key, value, event)

    def next_id(self, namespace: str, key: str, event: Event, *, count: int = 1,
                floor: int = 0) -> int:
        # BEGIN IMMEDIATE takes the write lock before the read: no other process reads the same
        # next id until this one is stored
        with self._transaction(fenced=True):
            stored = stored_id(namespace, key, self.fact(namespace, key))
            first = max(stored, floor)
            if first + count != stored:
                self._store_fact(namespace, key, first + count,
                                 ids_event(event, namespace, first, count))
        return first

    def _store_fact(self, namespace: str, key: str, value: Any | None, event: Event) -> None:
        if value is None:
            self.conn.execute("DELETE FROM facts WHERE namespace=? AND key=?", (namespace, key))
        else:
            self.conn.execute("INSERT INTO facts (namespace, key, value, run_id, updated_at) "
                              "VALUES (?,?,?,?,?) ON CONFLICT(namespace, key) DO UPDATE SET "
                              "value=excluded.value, run_id=excluded.run_id, "
                              "updated_at=excluded.updated_at",
                              (namespace, key, _dumps(value), event.run_id, now_iso()))
        self._insert_event(event)
        self._bump()

    # -- moving ----------------------------------------------------------------------------

    def dump(self) -> StateDump:
        with self._lock:
            return dump_file(self.conn)

    def restore(self, dump: StateDump) -> None:
        with self._transaction():
            restore_file(self.conn, dump)

    def close(self) -> None:
        with self._lock:
            self.conn.close()
