"""A PostgreSQL workspace's whole state in and out, for `taskform state migrate`: read in one
snapshot, written in one transaction (COPY, so a large history moves quickly)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from runner.state.base import Event, FactRow, Record, StateDump

if TYPE_CHECKING:
    import psycopg

_RECORD = ("address, kind, status, fingerprint, settings, outputs, depends_on, parent, "
           "prevent_destroy, labels, error, output, run_id, created_at, updated_at")
_RUN = "id, command, started_at, finished_at, status, \"user\", host, pid, summary"
_EVENT = "run_id, ts, address, event, message, data"
_FACT = "namespace, key, value, run_id, updated_at"


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def text(value: str | None) -> str | None:
    """Free text (an error, a command's output) as a JSON string: PostgreSQL text cannot
    hold the NUL character that output may carry."""
    return None if value is None else json.dumps(value)


def _untext(value: str | None) -> str | None:
    return None if value is None else str(json.loads(value))


def dump_workspace(conn: psycopg.Connection[Any], s: str, workspace: str) -> StateDump:
    """Everything of `workspace`, inside the caller's transaction (made a snapshot here)."""
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    row = conn.execute(f"SELECT serial FROM {s}.workspaces WHERE name = %s",
                       (workspace,)).fetchone()
    where = "WHERE workspace = %s"
    # byte order ("C"), as SQLite sorts: a copy compares equal whatever the database's collation
    records = conn.execute(f'SELECT {_RECORD} FROM {s}.resources {where} ORDER BY address '
                           'COLLATE "C"', (workspace,)).fetchall()
    runs = conn.execute(f'SELECT {_RUN} FROM {s}.runs {where} ORDER BY started_at COLLATE "C", '
                        'id COLLATE "C"', (workspace,)).fetchall()
    events = conn.execute(f"SELECT {_EVENT} FROM {s}.events {where} ORDER BY id",
                          (workspace,)).fetchall()
    facts = conn.execute(f'SELECT {_FACT} FROM {s}.facts {where} ORDER BY namespace COLLATE "C", '
                         'key COLLATE "C"', (workspace,)).fetchall()
    keys = ("id", "command", "started_at", "finished_at", "status", "user", "host", "pid")
    return StateDump(
        serial=int(row[0]) if row else 0,
        records=tuple(Record(
            address=r[0], kind=r[1], status=r[2], fingerprint=json.loads(r[3]),
            settings=json.loads(r[4]), outputs=json.loads(r[5]),
            depends_on=tuple(json.loads(r[6])), parent=r[7], prevent_destroy=r[8],
            labels=json.loads(r[9]), error=_untext(r[10]), output=_untext(r[11]), run_id=r[12],
            created_at=r[13], updated_at=r[14]) for r in records),
        runs=tuple(dict(zip(keys, r[:8], strict=True), summary=json.loads(r[8])) for r in runs),
        events=tuple(Event(run_id=r[0], ts=r[1], address=r[2], event=r[3],
                           message=str(json.loads(r[4])), data=json.loads(r[5]))
                     for r in events),
        facts=tuple(FactRow(namespace=r[0], key=r[1], value=json.loads(r[2]), run_id=r[3],
                            updated_at=r[4]) for r in facts))


def restore_workspace(conn: psycopg.Connection[Any], s: str, workspace: str,
                      dump: StateDump) -> None:
    """Write `dump` as the state of `workspace`, inside the caller's transaction."""
    conn.execute(f"INSERT INTO {s}.workspaces AS w (name, serial) VALUES (%s, %s) ON CONFLICT "
                 "(name) DO UPDATE SET serial = excluded.serial", (workspace, dump.serial))
    with conn.cursor() as cur:
        with cur.copy(f"COPY {s}.resources (workspace, {_RECORD}) FROM STDIN") as copy:
            for r in dump.records:
                copy.write_row((workspace, r.address, r.kind, r.status, dumps(r.fingerprint),
                                dumps(r.settings), dumps(r.outputs), dumps(list(r.depends_on)),
                                r.parent, r.prevent_destroy, dumps(r.labels), text(r.error),
                                text(r.output), r.run_id, r.created_at, r.updated_at))
        with cur.copy(f"COPY {s}.runs (workspace, {_RUN}) FROM STDIN") as copy:
            for run in dump.runs:
                copy.write_row((workspace, run["id"], run["command"], run["started_at"],
                                run["finished_at"], run["status"], run["user"], run["host"],
                                run["pid"], dumps(run["summary"])))
        with cur.copy(f"COPY {s}.events (workspace, {_EVENT}) FROM STDIN") as copy:
            for e in dump.events:
                copy.write_row((workspace, e.run_id, e.ts, e.address, e.event, text(e.message),
                                dumps(e.data)))
        with cur.copy(f"COPY {s}.facts (workspace, {_FACT}) FROM STDIN") as copy:
            for f in dump.facts:
                copy.write_row((workspace, f.namespace, f.key, dumps(f.value), f.run_id,
                                f.updated_at))
