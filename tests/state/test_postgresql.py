"""What only the PostgreSQL backend does: a lock key per (database, schema, workspace), many
workspaces side by side in one database, its settings, free text with NUL characters, and a
password that never shows. Everything every backend does is in contract.py."""

from __future__ import annotations

import pytest

from runner.errors import StateError, StateLocked
from runner.state.base import Event, Record, RunInfo, new_lock_info
from runner.state.postgresql import PostgresState
from runner.state.postgresql_link import Link
from runner.state.postgresql_lock import lock_key

pytestmark = pytest.mark.usefixtures("postgres")


def store(postgres, workspace: str, schema: str = "taskform") -> PostgresState:  # type: ignore[no-untyped-def]
    return PostgresState(Link(postgres.url()), schema=schema, workspace=workspace)


def record(address: str, **extra: object) -> Record:
    fields: dict[str, object] = dict(kind="value", status="ok", fingerprint={}, settings={},
                                     outputs={}, run_id="r1", created_at="t", updated_at="t")
    return Record(address=address, **{**fields, **extra})  # type: ignore[arg-type]


def test_the_lock_key_never_changes_between_versions() -> None:
    # an older and a newer taskform on one database must take the same lock: the key is part
    # of the on-disk format (docs/state.md gives the formula)
    assert lock_key("state", "taskform", "taskform", "assessments-prod") == 8025913477562606026
    assert lock_key("migrate", "taskform", "taskform", "") == -354497377739052230


def test_the_lock_key_differs_by_database_schema_and_workspace() -> None:
    keys = {lock_key("state", d, s, w) for d in ("db1", "db2") for s in ("taskform", "other")
            for w in ("a", "b")}
    assert len(keys) == 8
    assert all(-2**63 <= k < 2**63 for k in keys)


def test_workspaces_in_one_database_lock_apart(postgres) -> None:  # type: ignore[no-untyped-def]
    a, b = store(postgres, "lock-a"), store(postgres, "lock-b")
    same_name_elsewhere = store(postgres, "lock-a", schema="elsewhere")
    for s in (a, b, same_name_elsewhere):
        assert s.acquire_lock(new_lock_info("r", "apply"), 0) is None
    held = a.current_lock()
    with pytest.raises(StateLocked) as err:
        store(postgres, "lock-a").acquire_lock(new_lock_info("r2", "apply"), 0)
    assert held is not None and str(err.value).startswith(
        f"state is locked: lock {held.lock_id} held by ")


def test_workspaces_in_one_database_never_see_each_other(postgres) -> None:  # type: ignore[no-untyped-def]
    a, b = store(postgres, "apart-a"), store(postgres, "apart-b")
    a.commit(record("pipeline.p.x"), Event("r1", "done", "pipeline.p.x"))
    a.begin_run(RunInfo("r1", "apply"))
    a.set_fact("ns", "task_pool.p", 7, Event("r1", "fact"))
    b.commit(record("pipeline.p.y"), Event("r2", "done", "pipeline.p.y"))
    assert (list(a.records()), list(b.records())) == (["pipeline.p.x"], ["pipeline.p.y"])
    assert (a.serial(), b.serial()) == (2, 1)
    assert [e.run_id for e in b.events()] == ["r2"]
    assert (b.runs(), b.fact("ns", "task_pool.p"), a.fact("ns", "task_pool.p")) == ([], None, 7)
    assert b.next_id("ns", "task_pool.p", Event("r2", "fact")) == 0


def test_text_with_nul_characters_is_kept_exactly(postgres) -> None:  # type: ignore[no-untyped-def]
    # a command's output may carry NUL, which a PostgreSQL text value cannot hold
    s = store(postgres, "nul")
    failed = record("pipeline.p.bin", status="failed", error="exit 1\x00", output="\x00\x01ok",
                    settings={"cmd": "printf '\\0'", "k\x00": "v\x00"})
    event = Event("r1", "failed", "pipeline.p.bin", "boom\x00", {"out": "\x00"}, "t")
    s.commit(failed, event)
    assert store(postgres, "nul").records() == {"pipeline.p.bin": failed}
    assert s.events() == [event]


def test_a_server_that_does_not_answer_is_a_clear_error() -> None:
    from postgres_server import free_port

    port = free_port()
    with pytest.raises(StateError) as err:
        PostgresState(Link(f"postgresql://taskform@127.0.0.1:{port}/taskform"), schema="taskform",
                      workspace="w")
    assert str(err.value) == (
        f"cannot connect to the state database postgresql://taskform@127.0.0.1:{port}/taskform: "
        f'connection failed: connection to server at "127.0.0.1", port {port} failed: '
        "Connection refused Is the server running on that host and accepting TCP/IP "
        "connections?")


def test_a_schema_newer_than_this_taskform_names_the_database(postgres) -> None:  # type: ignore[no-untyped-def]
    store(postgres, "w", schema="future").close()
    with postgres.connect() as conn:
        conn.execute("UPDATE future.meta SET value = '9' WHERE key = 'schema_version'")
    with pytest.raises(StateError) as err:
        store(postgres, "w", schema="future")
    assert str(err.value) == (f"state {postgres.url()} (workspace w) has schema version 9, "
                              "newer than this taskform understands (1): upgrade taskform")


def test_a_run_whose_lock_was_forced_away_records_nothing_more(postgres) -> None:  # type: ignore[no-untyped-def]
    holder = store(postgres, "forced")
    held = new_lock_info("r-1", "apply")
    holder.acquire_lock(held, 0)
    holder.commit(record("pipeline.p.a"), Event("r-1", "done", "pipeline.p.a"))
    assert store(postgres, "forced").force_unlock(held.lock_id) == held
    taker = store(postgres, "forced")
    assert taker.acquire_lock(new_lock_info("r-2", "apply"), 0) is None
    message = (f"this run no longer holds the state lock of {postgres.url()} (workspace forced) "
               "(force-unlock, or its database session ended) while recording pipeline.p.b: "
               "nothing more is recorded. Everything recorded before stays; run the command "
               "again to go on")
    with pytest.raises(StateError) as err:
        holder.commit(record("pipeline.p.b"), Event("r-1", "done", "pipeline.p.b"))
    assert str(err.value) == message
    with pytest.raises(StateError) as again:  # and every later call says the same
        holder.finish_run("r-1", "failed", {})
    assert str(again.value) == message
    holder.release_lock(held.lock_id)  # releasing a lock already gone is quiet
    assert list(taker.records()) == ["pipeline.p.a"] and taker.current_lock() is not None


def test_messages_show_the_url_without_a_password_or_options() -> None:
    from runner.state.postgresql_link import shown_url

    assert [shown_url(u) for u in (
        "postgresql://ci:hunter2@db:5432/taskform?sslmode=require&options=-c%20x",
        "postgresql://db/taskform", "postgres://ci@[::1]:5433/t", "postgresql://ci@db:port/t",
    )] == ["postgresql://ci@db:5432/taskform", "postgresql://db/taskform",
           "postgres://ci@[::1]:5433/t", "postgresql://ci@db:port/t"]


def test_commits_wait_for_the_server_s_disk_only_when_asked(postgres) -> None:  # type: ignore[no-untyped-def]
    relaxed = store(postgres, "sync")
    strict = PostgresState(Link(postgres.url()), schema="taskform", workspace="sync",
                           synchronous_commit=True)
    assert [s.conn.execute("SHOW synchronous_commit").fetchone() for s in (relaxed, strict)] == [
        ("off",), ("on",)]
