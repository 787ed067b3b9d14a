"""The SQLite journal: schema versions, one transaction per resource, history, the lock."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from runner.errors import StateError, StateLocked
from runner.state.base import Event, LockInfo, Record, new_lock_info
from runner.state.sqlite import MIGRATIONS, SqliteState


def record(address: str, **extra) -> Record:
    return Record(address=address, kind="value", status="ok", fingerprint={"setting:input": "h"},
                  settings={"input": 1}, outputs={"value": 1}, updated_at="t", **extra)


def test_commit_remove_serial_and_history(tmp_path):
    state = SqliteState(tmp_path / "s.db")
    assert state.serial() == 0 and state.records() == {}
    state.commit(record("pipeline.p.a", depends_on=("x",)), Event("r1", "done", "pipeline.p.a"))
    state.commit(record("pipeline.p.b"), Event("r1", "done", "pipeline.p.b"))
    assert state.serial() == 2
    assert state.records()["pipeline.p.a"].depends_on == ("x",)
    state.remove("pipeline.p.a", Event("r2", "done", "pipeline.p.a", "destroyed"))
    assert list(state.records()) == ["pipeline.p.b"]
    assert [e.event for e in state.events(address="pipeline.p.a")] == ["done", "done"]
    assert state.serial() == 3


def test_schema_version_is_recorded_and_newer_is_refused(tmp_path):
    path = tmp_path / "s.db"
    SqliteState(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    conn.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StateError) as err:
        SqliteState(path)
    assert str(err.value) == (f"state {path} has schema version {len(MIGRATIONS) + 1}, newer "
                              f"than this taskform understands ({len(MIGRATIONS)}): upgrade "
                              "taskform")


def test_schema_1_records_get_their_packed_output_split_out(tmp_path):
    import sqlite_utils

    path = tmp_path / "s.db"
    conn = sqlite3.connect(path, isolation_level=None)
    MIGRATIONS[0](sqlite_utils.Database(conn))
    conn.execute("PRAGMA user_version=1")
    packed = "command exited with code 3\n--- output ---\nstarting\n--- output ---\noops"
    for address, error in (("pipeline.p.bad", packed), ("pipeline.p.plain", "no output")):
        conn.execute("INSERT INTO resources (address, kind, status, fingerprint, settings, "
                     "outputs, depends_on, parent, prevent_destroy, labels, error, run_id, "
                     "created_at, updated_at) VALUES (?, 'shell', 'failed', '{}', 'null', '{}', "
                     "'[]', NULL, 0, '{}', ?, 'r1', 't', 't')", (address, error))
    conn.close()
    records = SqliteState(path).records()
    assert (records["pipeline.p.bad"].error, records["pipeline.p.bad"].output) == (
        "command exited with code 3", "starting\n--- output ---\noops")
    assert (records["pipeline.p.plain"].error, records["pipeline.p.plain"].output) == (
        "no output", None)


def test_a_corrupt_file_is_a_clear_error(tmp_path):
    path = tmp_path / "s.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateError, match="cannot open state .*s.db: file is not a database"):
        SqliteState(path)


def test_lock_is_exclusive_and_names_its_holder(tmp_path):
    path = tmp_path / "s.db"
    holder = subprocess.Popen([sys.executable, "-c", f"""
import sys, time
from runner.state.sqlite import SqliteState
from runner.state.base import new_lock_info
s = SqliteState(__import__('pathlib').Path({str(path)!r}))
s.acquire_lock(new_lock_info('r-holder', 'apply'), 0)
print('locked', flush=True)
time.sleep(60)
"""], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        assert holder.stdout.readline() == "locked\n"
        state = SqliteState(path)
        with pytest.raises(StateLocked) as err:
            state.acquire_lock(new_lock_info("r-me", "apply"), 0)
        message = str(err.value)
        assert message.startswith("state is locked: lock ")
        assert f"(pid {holder.pid}) for `apply` since " in message
        assert "run r-holder. Wait for it to finish, retry with -lock-timeout, or if it is " \
               "certainly dead run `taskform force-unlock " in message
        with pytest.raises(StateLocked, match=r"^state is locked \(waited 0.5s\)"):
            state.acquire_lock(new_lock_info("r-me", "apply"), 0.5)
    finally:
        holder.kill()
        holder.wait()
    # the holder died without releasing: a holder on this host that is gone is taken over
    taken = SqliteState(path).acquire_lock(new_lock_info("r-next", "apply"), 0)
    assert taken is not None and taken.run_id == "r-holder"


def test_force_unlock(tmp_path):
    state = SqliteState(tmp_path / "s.db")
    foreign = LockInfo("abc123", "r-x", "apply", "ci", "other-host", 1, "", "then")
    state.acquire_lock(foreign, 0)
    with pytest.raises(StateLocked):  # another host: cannot tell whether it is alive
        state.acquire_lock(new_lock_info("r-me", "apply"), 0)
    with pytest.raises(StateError, match="lock ID 'nope' does not match the current lock"):
        state.force_unlock("nope")
    assert state.force_unlock("abc123").host == "other-host"
    assert state.current_lock() is None
    with pytest.raises(StateError, match="the state is not locked"):
        state.force_unlock("abc123")


def test_force_unlock_command(ws):
    from runner.state.sqlite import SqliteState

    state = SqliteState(ws.root / ".taskform" / "state.db")
    state.acquire_lock(LockInfo("abc123", "r-x", "apply", "ci", "other-host", 1, "", "then"), 0)
    result = ws.cli("force-unlock", "abc123", "-force")
    assert result.output == ("Removed lock abc123 held by ci@other-host (pid 1) for `apply` "
                             "since then, run r-x.\n")
