"""A SQLite state's whole content in and out, for `taskform state migrate`: read in one read
transaction (a snapshot under WAL), written in one write transaction."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from runner.state.base import Event, FactRow, Record, StateDump

_RECORD = ("address, kind, status, fingerprint, settings, outputs, depends_on, parent, "
           "prevent_destroy, labels, error, output, run_id, created_at, updated_at")
_RUN = "id, command, started_at, finished_at, status, user, host, pid, summary"
_EVENT = "run_id, ts, address, event, message, data"
_FACT = "namespace, key, value, run_id, updated_at"


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def dump_file(conn: sqlite3.Connection) -> StateDump:
    """Everything in the state; the caller holds the connection's lock."""
    conn.execute("BEGIN")
    try:
        serial = conn.execute("SELECT value FROM meta WHERE key='serial'").fetchone()
        records = conn.execute(f"SELECT {_RECORD} FROM resources ORDER BY address").fetchall()
        runs = conn.execute(f"SELECT {_RUN} FROM runs ORDER BY started_at, id").fetchall()
        events = conn.execute(f"SELECT {_EVENT} FROM events ORDER BY id").fetchall()
        facts = conn.execute(f"SELECT {_FACT} FROM facts ORDER BY namespace, key").fetchall()
    finally:
        conn.execute("COMMIT")
    keys = ("id", "command", "started_at", "finished_at", "status", "user", "host", "pid")
    return StateDump(
        serial=int(serial[0]),
        records=tuple(Record(
            address=r[0], kind=r[1], status=r[2], fingerprint=json.loads(r[3]),
            settings=json.loads(r[4]), outputs=json.loads(r[5]),
            depends_on=tuple(json.loads(r[6])), parent=r[7], prevent_destroy=bool(r[8]),
            labels=json.loads(r[9]), error=r[10], output=r[11], run_id=r[12], created_at=r[13],
            updated_at=r[14]) for r in records),
        runs=tuple(dict(zip(keys, r[:8], strict=True), summary=json.loads(r[8] or "{}"))
                   for r in runs),
        events=tuple(Event(run_id=r[0], ts=r[1], address=r[2], event=r[3], message=r[4],
                           data=json.loads(r[5])) for r in events),
        facts=tuple(FactRow(namespace=r[0], key=r[1], value=json.loads(r[2]), run_id=r[3],
                            updated_at=r[4]) for r in facts))


def restore_file(conn: sqlite3.Connection, dump: StateDump) -> None:
    """Write `dump` into the state, inside the caller's write transaction."""
    conn.execute("UPDATE meta SET value=? WHERE key='serial'", (str(dump.serial),))
    conn.executemany(f"INSERT INTO resources ({_RECORD}) VALUES ({', '.join('?' * 15)})", [
        (r.address, r.kind, r.status, _dumps(r.fingerprint), _dumps(r.settings),
         _dumps(r.outputs), _dumps(list(r.depends_on)), r.parent, int(r.prevent_destroy),
         _dumps(r.labels), r.error, r.output, r.run_id, r.created_at, r.updated_at)
        for r in dump.records])
    conn.executemany(f"INSERT INTO runs ({_RUN}) VALUES ({', '.join('?' * 9)})", [
        (r["id"], r["command"], r["started_at"], r["finished_at"], r["status"], r["user"],
         r["host"], r["pid"], _dumps(r["summary"])) for r in dump.runs])
    conn.executemany(f"INSERT INTO events ({_EVENT}) VALUES ({', '.join('?' * 6)})", [
        (e.run_id, e.ts, e.address, e.event, e.message, _dumps(e.data)) for e in dump.events])
    conn.executemany(f"INSERT INTO facts ({_FACT}) VALUES ({', '.join('?' * 5)})", [
        (f.namespace, f.key, _dumps(f.value), f.run_id, f.updated_at) for f in dump.facts])
