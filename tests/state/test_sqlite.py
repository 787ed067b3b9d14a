"""What only the SQLite backend does: its file, its schema steps in SQL, one transaction per
migration. Everything every backend does is in contract.py."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from dataclasses import replace

import pytest
import sqlite_utils

from runner.errors import StateError
from runner.state import sqlite as backend
from runner.state.base import Event, LockInfo, Record, new_lock_info, stored_json
from runner.state.sqlite import MIGRATIONS, SqliteState


def at_schema(path, version: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    db = sqlite_utils.Database(conn)
    for step in MIGRATIONS[:version]:
        step(db)
    conn.execute(f"PRAGMA user_version={version}")
    return conn


def test_a_corrupt_file_is_a_clear_error(tmp_path):
    path = tmp_path / "s.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateError) as err:
        SqliteState(path)
    assert str(err.value) == f"cannot open state {path}: file is not a database"


def test_schema_2_splits_the_output_packed_into_errors_at_its_first_mark(tmp_path):
    path = tmp_path / "s.db"
    conn = at_schema(path, 1)
    packed = "command exited with code 3\n--- output ---\nstarting\n--- output ---\noops"
    for address, error in (("pipeline.p.bad", packed), ("pipeline.p.plain", "no output"),
                           ("pipeline.p.ok", None), ("pipeline.p.empty", "lost\n--- output ---\n")):
        conn.execute("INSERT INTO resources (address, kind, status, fingerprint, settings, "
                     "outputs, depends_on, parent, prevent_destroy, labels, error, run_id, "
                     "created_at, updated_at) VALUES (?, 'shell', 'failed', '{}', 'null', '{}', "
                     "'[]', NULL, 0, '{}', ?, 'r1', 't', 't')", (address, error))
    conn.close()
    records = SqliteState(path).records()
    assert {a: (r.error, r.output) for a, r in records.items()} == {
        "pipeline.p.bad": ("command exited with code 3", "starting\n--- output ---\noops"),
        "pipeline.p.plain": ("no output", None), "pipeline.p.ok": (None, None),
        "pipeline.p.empty": ("lost", None)}


def test_a_failing_migration_leaves_the_schema_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "s.db"
    at_schema(path, 2).close()

    def broken(db):
        db["facts"].create({"namespace": str, "key": str}, pk=("namespace", "key"))
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(backend, "MIGRATIONS", [*MIGRATIONS[:2], broken])
    with pytest.raises(RuntimeError, match="^disk on fire$"):
        SqliteState(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert conn.execute("SELECT name FROM sqlite_master WHERE name='facts'").fetchall() == []


def test_a_holder_on_this_host_that_is_gone_is_taken_over(tmp_path):
    # SQLite's only way to tell a dead holder: the lock row names a process of this host that
    # no longer runs (PostgreSQL's server releases a dead session's lock itself)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = replace(new_lock_info("r-old", "apply"), pid=gone.pid, pid_start="1")
    store = SqliteState(tmp_path / "s.db")
    store.acquire_lock(stale, 0)
    mine = new_lock_info("r-me", "apply")
    assert SqliteState(tmp_path / "s.db").acquire_lock(mine, 0) == stale
    assert store.current_lock() == mine


def test_force_unlock_command(ws):
    state = ws.state()
    state.acquire_lock(LockInfo("abc123", "r-x", "apply", "ci", "other-host", 1, "", "then"), 0)
    result = ws.cli("force-unlock", "abc123", "-force")
    assert result.output == ("Removed lock abc123 held by ci@other-host (pid 1) for `apply` "
                             "since then, run r-x.\n")
    assert state.current_lock() is None


@pytest.mark.parametrize("column, command", [
    ("outputs", "state show"), ("fingerprint", "plan"), ("settings", "plan"), ("labels", "plan")])
def test_a_record_edited_into_broken_json_is_a_clear_error_naming_it(ws, column, command):
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a: {value: {input: 1}}
            b: {value: {input: "{{ steps.a.value }}"}}
        """)
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    with sqlite3.connect(ws.root / ".taskform" / "state.db") as db:
        db.execute(f"UPDATE resources SET {column} = '{{\"value\": 1' "
                   "WHERE address = 'pipeline.p.a'")
    result = ws.cli(*command.split(), *(["pipeline.p.a"] if command == "state show" else []))
    what = "outputs" if column == "outputs" else "fields"
    assert result.exit_code == 1, result.output
    assert f"the state's record of pipeline.p.a is damaged: its {what} cannot be read as JSON" \
        in result.output
    assert "Traceback" not in result.output


def test_a_child_s_outputs_memo_is_read_without_decoding_and_damage_is_named(tmp_path):
    store = SqliteState(tmp_path / "s.db")
    child = Record(address='pipeline.p.each["a"]', kind="value", status="ok",
                   fingerprint={"memo:outputs": "m1"}, settings={"input": 1}, outputs={},
                   parent="pipeline.p.each")
    store.commit(child, Event(run_id="r1", event="done", address=child.address))
    read = store.records()[child.address]
    assert read.outputs_memo() == "m1"
    assert vars(read).keys() & {"fingerprint", "settings"} == set()
    with sqlite3.connect(tmp_path / "s.db") as db:
        db.execute("UPDATE resources SET fingerprint = '{\"memo:outputs\": ' "
                   "WHERE address = ?", (child.address,))
    damaged = store.records()[child.address]  # read: the damage shows where it is used
    for use in (lambda: damaged.settings, damaged.outputs_memo):
        with pytest.raises(StateError, match=re.escape(
                'the state\'s record of pipeline.p.each["a"] is damaged: its fingerprint and '
                "settings cannot be read as JSON")):
            use()
    store.close()


@pytest.mark.parametrize("parent, column, what", [
    (None, "labels", "fields"),              # a top-level record: every JSON column in one array
    (None, "fingerprint", "fields"),
    ("pipeline.p.each", "depends_on", "fields"),
    ("pipeline.p.each", "settings", "fingerprint and settings"),  # a child's, read when asked
])
def test_a_column_edited_into_several_json_values_is_damage_named_not_a_crash(
        tmp_path, parent, column, what):
    # `[] , {}` is valid JSON inside the array the backend joins columns into, but two values
    store = SqliteState(tmp_path / "s.db")
    address = 'pipeline.p.each["a"]' if parent else "pipeline.p.a"
    store.commit(Record(address=address, kind="value", status="ok", fingerprint={},
                        settings={}, outputs={}, parent=parent),
                 Event(run_id="r1", event="done", address=address))
    with sqlite3.connect(tmp_path / "s.db") as db:
        db.execute(f"UPDATE resources SET {column} = ? WHERE address = ?",
                   ('[], {}' if column == "depends_on" else '{}, {}', address))
    with pytest.raises(StateError, match=re.escape(
            f"the state's record of {address} is damaged: its {what} are not one JSON value "
            f"each; restore it from a backup or `taskform state rm {address}`")):
        record = store.records()[address]
        record.settings  # noqa: B018 (a child's is decoded here)
    store.close()


@pytest.mark.parametrize("text", [
    '[1,{"a":[true,null]},"x"]', ' [1] ', '[1]\n', '{"a": 1}', '"s"', '3', 'NaN', '[1] [2]',
    '[1', '', ' ', '[1],', '{"a": 1}}', '[1e400]', '["\\ud800"]', '[1]x'])
def test_stored_json_reads_what_json_loads_reads_and_refuses_the_rest(text):
    """`stored_json` scans what taskform wrote without json.loads's wrappers; any text reads to
    the same value, or is refused with the same damage message, as json.loads gives."""
    try:
        expected = json.loads(text)
    except ValueError:
        with pytest.raises(StateError, match="is damaged: its fields cannot be read as JSON"):
            stored_json(text, "pipeline.p.a", "fields")
        return
    found = stored_json(text, "pipeline.p.a", "fields")
    assert repr(found) == repr(expected)
