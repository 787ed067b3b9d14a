"""The PostgreSQL state backend: the team's state, shared by people and CI.

One row per resource (like the SQLite journal), one transaction per resource: a record, its
event and the serial's bump go in one statement, so a runner killed at any moment leaves every
committed resource in place. Many workspaces share one database, each under its own name; the
lock is a session advisory lock per workspace (postgresql_lock.py). docs/state.md explains the
design and its settings."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from runner.state.base import (
    INTENTS,
    Event,
    LockInfo,
    Record,
    RunInfo,
    StateDump,
    ids_event,
    now_iso,
    stored_id,
    stored_record,
    stored_values,
)
from runner.state.postgresql_dump import dump_workspace, dumps, restore_workspace, text
from runner.state.postgresql_link import Link, Lost, talking
from runner.state.postgresql_lock import AdvisoryLock, lock_key
from runner.state.postgresql_schema import migrate, quoted

if TYPE_CHECKING:
    from runner.workspace import Workspace
    from runner.workspace_config import StateSettings

# JSON columns joined into one array, one decode per row, but for an expansion's child its
# fingerprint and settings apart, decoded when read (`SqliteState.records` says why). Its
# outputs' memo is not read apart: PostgreSQL 15 cannot test text for JSON without failing
# the query, so a digest decodes them.
_FIELDS = ("'[' || depends_on || ',' || labels || ',' || coalesce(error, 'null') || ',' || "
           "coalesce(output, 'null')")
_RECORD = (f"address, kind, status, CASE WHEN parent IS NULL THEN {_FIELDS} || ',' || "
           f"fingerprint || ',' || settings || ']' ELSE {_FIELDS} || ']' END, parent, "
           "prevent_destroy, run_id, created_at, updated_at, CASE WHEN parent IS NOT NULL THEN "
           "'[' || fingerprint || ',' || settings || ']' END, outputs")
_COLUMNS = ("kind, status, fingerprint, settings, outputs, depends_on, parent, prevent_destroy, "
            "labels, error, output, run_id, updated_at")
_UPDATE = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS.split(", "))  # created_at stays


def open_postgresql(ws: Workspace, settings: StateSettings) -> PostgresState:
    """The backend `state.backend: postgresql` names: the database at `state.url`, this
    workspace's records under `state.workspace` (default: the folder's name)."""
    password = None
    if settings.password_variable:
        password = ws.secret(settings.password_variable, "state.password_variable",
                             "PostgreSQL password")
    assert settings.url is not None  # StateSettings refuses postgresql without a url
    return PostgresState(Link(settings.url, password), schema=settings.db_schema,
                         workspace=settings.workspace or ws.name,
                         synchronous_commit=settings.synchronous_commit)


class PostgresState:
    """The state of one workspace in a PostgreSQL database."""

    def __init__(self, link: Link, *, schema: str, workspace: str,
                 synchronous_commit: bool = False):
        self.link, self.workspace = link, workspace
        self.where = f"{link.where} (workspace {workspace})"
        self.s = quoted(schema)
        # apply's workers reach facts while its main thread commits: one connection, so one
        # transaction at a time
        self._lock = threading.RLock()
        self._lost: Lost | None = None
        self.conn = link.connect(f"state {workspace}")
        try:
            with talking(link, self.conn, "opening the state", self.where):
                # a commit need not wait for the server's disk: taskform's own crash loses
                # nothing either way, and the wait (a flush per resource) would dominate apply
                row = self.conn.execute(
                    "SELECT current_database(), set_config('synchronous_commit', %s, false)",
                    ("on" if synchronous_commit else "off",)).fetchone()
                database = str(row[0]) if row else ""
                migrate(self.conn, schema, self.where, lock_key("migrate", database, schema, ""))
        except BaseException:
            self.conn.close()
            raise
        self.advisory = AdvisoryLock(link, schema, workspace,
                                     lock_key("state", database, schema, workspace))

    @contextmanager
    def _talk(self, doing: str, *, transaction: bool = False, writes: bool = False
              ) -> Iterator[Any]:
        """One exchange with the database; once the connection is lost (or the lock taken
        away) every later call fails with the same message."""
        if self._lost is not None:
            raise Lost(str(self._lost))
        with self._lock:
            try:
                if writes and self.advisory.is_lost():
                    raise Lost(f"this run no longer holds the state lock of {self.where} "
                               "(force-unlock, or its database session ended) while "
                               f"{doing}: nothing more is recorded. Everything recorded "
                               "before stays; run the command again to go on")
                with talking(self.link, self.conn, doing, self.where):
                    if transaction:
                        with self.conn.transaction():
                            yield self.conn
                    else:
                        yield self.conn
            except Lost as exc:
                self._lost = exc
                raise

    # -- records -------------------------------------------------------------------------

    def records(self) -> dict[str, Record]:
        with self._talk("reading the records") as conn:
            rows = conn.execute(f"SELECT {_RECORD} FROM {self.s}.resources WHERE workspace = %s",
                                (self.workspace,)).fetchall()
        out = {}
        for r in rows:
            decoded = stored_values(r[3], r[0], "fields", (4,) if r[9] else (6,))
            fields = {"address": r[0], "kind": r[1], "status": r[2], "depends_on":
                      tuple(decoded[0]), "parent": r[4], "prevent_destroy": r[5],
                      "labels": decoded[1], "error": decoded[2], "output": decoded[3],
                      "run_id": r[6], "created_at": r[7], "updated_at": r[8]}
            if r[9] is None:
                fields["fingerprint"], fields["settings"] = decoded[4:]
            out[r[0]] = stored_record(fields, r[10], r[9], None)
        return out

    def serial(self) -> int:
        with self._talk("reading the state version") as conn:
            row = conn.execute(f"SELECT serial FROM {self.s}.workspaces WHERE name = %s",
                               (self.workspace,)).fetchone()
        return int(row[0]) if row else 0

    def commit(self, record: Record, event: Event) -> None:
        with self._talk(f"recording {record.address}", writes=True) as conn:
            conn.execute(
                f"WITH r AS (INSERT INTO {self.s}.resources (workspace, address, created_at, "
                f"{_COLUMNS}) VALUES ({', '.join(['%s'] * 16)}) ON CONFLICT (workspace, address) "
                f"DO UPDATE SET {_UPDATE}), i AS ({self._settle()}), e AS ("
                f"{self._event_insert()}) {self._bump()}",
                (self.workspace, record.address, record.created_at or record.updated_at,
                 record.kind, record.status, dumps(record.fingerprint), dumps(record.settings),
                 dumps(record.outputs), dumps(list(record.depends_on)), record.parent,
                 record.prevent_destroy, dumps(record.labels), text(record.error),
                 text(record.output), record.run_id, record.updated_at,
                 self.workspace, INTENTS, record.address,
                 *self._event_values(event), self.workspace))

    def remove(self, address: str, event: Event) -> None:
        with self._talk(f"forgetting {address}", writes=True) as conn:
            conn.execute(f"WITH r AS (DELETE FROM {self.s}.resources WHERE workspace = %s AND "
                         f"address = %s), i AS ({self._settle()}), e AS ("
                         f"{self._event_insert()}) {self._bump()}",
                         (self.workspace, address, self.workspace, INTENTS, address,
                          *self._event_values(event), self.workspace))

    def _settle(self) -> str:
        """The statement that settles an address's intent (parameters: workspace, INTENTS,
        the address), run with its commit or removal."""
        return (f"DELETE FROM {self.s}.facts WHERE workspace = %s AND namespace = %s AND "
                "key = %s")

    def _bump(self) -> str:
        return (f"INSERT INTO {self.s}.workspaces AS w (name, serial) VALUES (%s, 1) "
                "ON CONFLICT (name) DO UPDATE SET serial = w.serial + 1")

    # -- history -------------------------------------------------------------------------

    def _event_insert(self) -> str:
        return (f"INSERT INTO {self.s}.events (workspace, run_id, ts, address, event, message, "
                "data) VALUES (%s, %s, %s, %s, %s, %s, %s)")

    def _event_values(self, e: Event) -> tuple[Any, ...]:
        return (self.workspace, e.run_id, e.ts, e.address, e.event, text(e.message),
                dumps(e.data))

    def append(self, event: Event) -> None:
        with self._talk("recording an event", writes=True) as conn:
            conn.execute(self._event_insert(), self._event_values(event))

    def events(self, address: str | None = None, run_id: str | None = None,
               limit: int = 100) -> list[Event]:
        where, args = ["workspace = %s"], [self.workspace]
        if address:
            where.append("address = %s")
            args.append(address)
        if run_id:
            where.append("run_id = %s")
            args.append(run_id)
        with self._talk("reading the history") as conn:
            rows = conn.execute(f"SELECT run_id, event, address, message, data, ts FROM "
                                f"{self.s}.events WHERE {' AND '.join(where)} ORDER BY id DESC "
                                "LIMIT %s", (*args, limit)).fetchall()
        return [Event(run_id=r[0], event=r[1], address=r[2], message=json.loads(r[3]),
                      data=json.loads(r[4]), ts=r[5]) for r in reversed(rows)]

    def begin_run(self, run: RunInfo) -> None:
        with self._talk("recording the start of the run", writes=True) as conn:
            conn.execute(f"INSERT INTO {self.s}.runs (workspace, id, command, started_at, "
                         "status, \"user\", host, pid, summary) VALUES "
                         "(%s, %s, %s, %s, 'running', %s, %s, %s, '{}')",
                         (self.workspace, run.run_id, run.command, now_iso(), run.user,
                          run.host, run.pid))

    def finish_run(self, run_id: str, status: str, summary: dict[str, Any]) -> None:
        with self._talk("recording the end of the run", writes=True) as conn:
            conn.execute(f"UPDATE {self.s}.runs SET finished_at = %s, status = %s, summary = %s "
                         "WHERE workspace = %s AND id = %s",
                         (now_iso(), status, dumps(summary), self.workspace, run_id))

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        with self._talk("reading the runs") as conn:
            rows = conn.execute(f"SELECT id, command, started_at, finished_at, status, \"user\", "
                                f"host, pid, summary FROM {self.s}.runs WHERE workspace = %s "
                                "ORDER BY started_at DESC LIMIT %s",
                                (self.workspace, limit)).fetchall()
        keys = ("id", "command", "started_at", "finished_at", "status", "user", "host", "pid")
        return [dict(zip(keys, r[:8], strict=True), summary=json.loads(r[8])) for r in rows]

    # -- lock ----------------------------------------------------------------------------

    def acquire_lock(self, info: LockInfo, timeout: float) -> LockInfo | None:
        """Take the lock, polling up to `timeout` seconds; return a stale holder replaced."""
        if self._lost is not None:
            raise Lost(str(self._lost))
        return self.advisory.acquire(info, timeout)

    def release_lock(self, lock_id: str) -> None:
        self.advisory.release(lock_id)

    def current_lock(self) -> LockInfo | None:
        with self._talk("reading the state lock") as conn:
            return self.advisory.holder(conn)

    def force_unlock(self, lock_id: str) -> LockInfo:
        with self._talk("removing the state lock") as conn:
            return self.advisory.force_unlock(conn, lock_id)

    # -- facts ---------------------------------------------------------------------------

    def facts(self, namespace: str) -> dict[str, Any]:
        with self._talk(f"reading the facts of {namespace}") as conn:
            rows = conn.execute(f"SELECT key, value FROM {self.s}.facts WHERE workspace = %s AND "
                                "namespace = %s", (self.workspace, namespace)).fetchall()
        return {str(key): json.loads(value) for key, value in rows}

    def fact(self, namespace: str, key: str) -> Any | None:
        with self._talk("reading a fact") as conn:
            row = conn.execute(f"SELECT value FROM {self.s}.facts WHERE workspace = %s AND "
                               "namespace = %s AND key = %s",
                               (self.workspace, namespace, key)).fetchone()
        return json.loads(row[0]) if row else None

    def set_fact(self, namespace: str, key: str, value: Any | None, event: Event) -> None:
        with self._talk(f"storing {namespace} of {key}", transaction=True, writes=True):
            self._hold_workspace()
            if self.fact(namespace, key) != value:
                self._store_fact(namespace, key, value, event)

    def next_id(self, namespace: str, key: str, event: Event, *, count: int = 1,
                floor: int = 0) -> int:
        with self._talk(f"handing out {namespace} of {key}", transaction=True, writes=True):
            self._hold_workspace()  # no other runner reads this next id until it is stored
            stored = stored_id(namespace, key, self.fact(namespace, key))
            first = max(stored, floor)
            if first + count != stored:
                self._store_fact(namespace, key, first + count,
                                 ids_event(event, namespace, first, count))
        return first

    def _hold_workspace(self) -> None:
        """Lock this workspace's row until the transaction ends: its fact writers queue."""
        self.conn.execute(f"INSERT INTO {self.s}.workspaces AS w (name) VALUES (%s) ON CONFLICT "
                          "(name) DO UPDATE SET serial = w.serial", (self.workspace,))

    def _store_fact(self, namespace: str, key: str, value: Any | None, event: Event) -> None:
        if value is None:
            self.conn.execute(f"DELETE FROM {self.s}.facts WHERE workspace = %s AND namespace = "
                              "%s AND key = %s", (self.workspace, namespace, key))
        else:
            self.conn.execute(f"INSERT INTO {self.s}.facts (workspace, namespace, key, value, "
                              "run_id, updated_at) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT "
                              "(workspace, namespace, key) DO UPDATE SET value = excluded.value, "
                              "run_id = excluded.run_id, updated_at = excluded.updated_at",
                              (self.workspace, namespace, key, dumps(value), event.run_id,
                               now_iso()))
        self.conn.execute(f"WITH e AS ({self._event_insert()}) {self._bump()}",
                          (*self._event_values(event), self.workspace))

    # -- moving ----------------------------------------------------------------------------

    def dump(self) -> StateDump:
        with self._talk("reading the whole state", transaction=True) as conn:
            return dump_workspace(conn, self.s, self.workspace)

    def restore(self, dump: StateDump) -> None:
        with self._talk("writing the copied state", transaction=True, writes=True) as conn:
            restore_workspace(conn, self.s, self.workspace, dump)

    def close(self) -> None:
        with self._lock:
            self.advisory.close()
            self.conn.close()
