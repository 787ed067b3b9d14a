"""The SQLite state's schema: one migration per version, applied in order inside one
transaction; PRAGMA user_version holds how many have run. A migration is never edited once
released: a change of schema is a new one at the end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _v1(db: Any) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["resources"].create({
        "address": str, "kind": str, "status": str, "fingerprint": str, "settings": str,
        "outputs": str, "depends_on": str, "parent": str, "prevent_destroy": int, "labels": str,
        "error": str, "run_id": str, "created_at": str, "updated_at": str}, pk="address")
    db["runs"].create({"id": str, "command": str, "started_at": str, "finished_at": str,
                       "status": str, "user": str, "host": str, "pid": int, "summary": str},
                      pk="id")
    db["events"].create({"id": int, "run_id": str, "ts": str, "address": str, "event": str,
                         "message": str, "data": str}, pk="id")
    db["events"].create_index(["address"])
    db["events"].create_index(["run_id"])
    db["lock"].create({"id": int, "lock_id": str, "run_id": str, "operation": str, "user": str,
                       "host": str, "pid": int, "pid_start": str, "since": str}, pk="id")
    db["meta"].insert_all([{"key": "serial", "value": "0"}])


# Up to schema 1, apply packed a failed step's output into `error` after this line.
PACKED_OUTPUT_MARK = "\n--- output ---\n"


def _v2(db: Any) -> None:
    """A failure's output gets its own column; rows written before are split at the old mark."""
    db["resources"].add_column("output", str)
    # every expression of SET reads the row as it was, so `error` is split after `output` is cut
    db.conn.execute("UPDATE resources SET output = nullif(substr(error, instr(error, :mark) + "
                    "length(:mark)), ''), error = substr(error, 1, instr(error, :mark) - 1) "
                    "WHERE instr(error, :mark) > 0", {"mark": PACKED_OUTPUT_MARK})


def _v3(db: Any) -> None:
    """Facts kinds remember (a pool's next id, accepted scenarios), by namespace and address."""
    db["facts"].create({"namespace": str, "key": str, "value": str, "run_id": str,
                        "updated_at": str}, pk=("namespace", "key"))


# Schema migrations, applied in order; PRAGMA user_version holds how many have run.
MIGRATIONS: list[Callable[[Any], None]] = [_v1, _v2, _v3]
