"""What every state backend must do, as tests over a `harness` (tests/state_backends.py):
records, serial, events, runs, the lock, facts and schema migrations. test_contract.py
collects them once per backend."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from state_backends import (
    OLD_ADDRESS,
    OLD_ERROR,
    OLD_OUTPUT,
    OLD_RUN,
    Harness,
    child_env,
    harness_for,
)

from runner.errors import StateError, StateLocked
from runner.state.base import INTENTS, Event, LockInfo, Record, RunInfo, new_lock_info

NS = "task_pool.next_id"
POOL = "task_pool.fastapi"


def record(address: str, **extra: object) -> Record:
    fields: dict[str, object] = dict(
        kind="value", status="ok", fingerprint={"setting:input": "h"}, settings={"input": 1},
        outputs={"value": 1}, run_id="r1", created_at="2025-01-01T00:00:00.000Z",
        updated_at="2025-01-01T00:00:00.000Z")
    return Record(address=address, **{**fields, **extra})  # type: ignore[arg-type]


def done(address: str, run_id: str = "r1") -> Event:
    return Event(run_id=run_id, event="done", address=address, ts="2025-01-01T00:00:00.000Z")


# -- records ------------------------------------------------------------------------------


def test_a_record_s_outputs_are_decoded_when_read_and_it_behaves_as_written(
        harness: Harness) -> None:
    written = record("pipeline.p.a", outputs={"value": [1, 2.5, None, "ünï"], "n": {"x": True}})
    harness.open().commit(written, done("pipeline.p.a"))
    read = harness.open().records()["pipeline.p.a"]
    assert "outputs" not in vars(read)  # kept as the stored text until something reads it
    assert read.outputs == written.outputs
    assert read.outputs is read.outputs  # decoded once
    again = harness.open().records()["pipeline.p.a"]
    assert again == written  # equality reads them too
    assert replace(harness.open().records()["pipeline.p.a"], status="failed").outputs == \
        written.outputs
    with pytest.raises(AttributeError, match="'Record' object has no attribute 'outptus'"):
        getattr(read, "outptus")  # noqa: B009 (mypy rightly refuses `read.outptus`)


def test_a_child_s_fingerprint_and_settings_are_decoded_when_read(harness: Harness) -> None:
    # an expansion's child: a plan that takes the recorded expansion reads only its memo
    written = record('pipeline.p.each["a"]', parent="pipeline.p.each",
                     fingerprint={"setting:input": "h", "memo:outputs": "m1"},
                     settings={"input": [1, {"a": None}]})
    harness.open().commit(written, done(written.address))
    read = harness.open().records()[written.address]
    assert vars(read).keys() & {"fingerprint", "settings", "outputs"} == set()
    assert read.outputs_memo() == "m1"
    assert read.settings == written.settings
    assert "fingerprint" in vars(read)  # decoded with the settings, once
    assert read.fingerprint == written.fingerprint
    assert harness.open().records()[written.address] == written


def test_a_record_reads_back_with_every_field(harness: Harness) -> None:
    store = harness.open()
    failed = record('pipeline.p.grade["c1","solution1"]', status="failed",
                    settings={"nested": [1, {"a": None}]}, outputs={"kept": "from before"},
                    depends_on=("pipeline.p.pool", "pipeline.p.image"), parent="pipeline.p.grade",
                    prevent_destroy=True, labels={"team": "grading"},
                    error="command exited with code 3", output="starting\n--- output ---\noops")
    store.commit(failed, done(failed.address))
    assert store.records() == {failed.address: failed}
    assert harness.open().records() == {failed.address: failed}  # another connection sees it


def test_a_record_committed_again_keeps_when_it_was_created(harness: Harness) -> None:
    store = harness.open()
    store.commit(record("pipeline.p.a", status="failed", error="boom", output="log"),
                 done("pipeline.p.a"))
    again = record("pipeline.p.a", outputs={"value": 2}, run_id="r2",
                   created_at="2025-02-02T00:00:00.000Z", updated_at="2025-02-02T00:00:00.000Z")
    store.commit(again, done("pipeline.p.a", "r2"))
    assert store.records() == {"pipeline.p.a": replace(again,
                                                       created_at="2025-01-01T00:00:00.000Z")}


def test_remove_forgets_a_record_and_keeps_its_history(harness: Harness) -> None:
    store = harness.open()
    store.commit(record("pipeline.p.a"), done("pipeline.p.a"))
    store.commit(record("pipeline.p.b"), done("pipeline.p.b"))
    store.remove("pipeline.p.a", Event("r2", "destroyed", "pipeline.p.a", ts="t2"))
    assert list(store.records()) == ["pipeline.p.b"]
    assert [(e.run_id, e.event) for e in store.events(address="pipeline.p.a")] == [
        ("r1", "done"), ("r2", "destroyed")]


# -- serial -------------------------------------------------------------------------------


def test_the_serial_counts_changes_of_records_and_facts_only(harness: Harness) -> None:
    store = harness.open()
    steps = [
        (lambda: store.commit(record("pipeline.p.a"), done("pipeline.p.a")), 1),
        (lambda: store.commit(record("pipeline.p.a"), done("pipeline.p.a")), 2),
        (lambda: store.remove("pipeline.p.a", done("pipeline.p.a")), 3),
        (lambda: store.append(Event("r1", "note")), 3),
        (lambda: store.begin_run(RunInfo("r1", "apply")), 3),
        (lambda: store.finish_run("r1", "ok", {}), 3),
        (lambda: store.acquire_lock(new_lock_info("r1", "apply"), 0), 3),
        (lambda: store.set_fact("ns", "k", {"a": 1}, Event("r1", "fact")), 4),
        (lambda: store.set_fact("ns", "k", {"a": 1}, Event("r1", "fact")), 4),  # unchanged
        (lambda: store.next_id(NS, POOL, Event("r1", "fact")), 5),
        (lambda: store.next_id(NS, POOL, Event("r1", "fact"), count=0), 5),  # unchanged
        (lambda: store.set_fact("ns", "k", None, Event("r1", "fact")), 6),
    ]
    assert store.serial() == 0
    for n, (step, serial) in enumerate(steps):
        step()
        assert store.serial() == serial, f"after step {n}"
    assert harness.open().serial() == 6


# -- events -------------------------------------------------------------------------------


def test_events_are_kept_in_order_and_filtered_by_address_and_run(harness: Harness) -> None:
    store = harness.open()
    history = [Event("r1", "done", "pipeline.p.a", "first", {"n": 1}, "t1"),
               Event("r1", "done", "pipeline.p.b", "", {}, "t2"),
               Event("r2", "lock-taken-over", None, "previous holder is gone", {}, "t3"),
               Event("r2", "failed", "pipeline.p.a", "boom", {"attempts": [1, 2]}, "t4")]
    for event in history:
        store.append(event)
    assert store.events() == history
    assert store.events(address="pipeline.p.a") == [history[0], history[3]]
    assert store.events(run_id="r2") == history[2:]
    assert store.events(address="pipeline.p.a", run_id="r1") == [history[0]]
    assert store.events(limit=2) == history[2:]  # the last two, oldest first
    assert store.events(address="pipeline.p.zzz") == []


def test_a_commit_writes_its_event_with_the_record(harness: Harness) -> None:
    store = harness.open()
    event = Event("r1", "done", "pipeline.p.a", "created", {"seconds": 1.5}, "t1")
    store.commit(record("pipeline.p.a"), event)
    assert store.events() == [event]


# -- runs ---------------------------------------------------------------------------------


def test_runs_begin_finish_and_list_newest_first(harness: Harness) -> None:
    store = harness.open()
    store.begin_run(RunInfo("r-1", "apply", user="ana", host="ci-1", pid=11))
    time.sleep(0.01)  # runs are ordered by when they began, to the millisecond
    store.begin_run(RunInfo("r-2", "destroy", user="bo", host="ci-2", pid=22))
    store.finish_run("r-1", "failed", {"created": 2, "failed": 1})
    first, second = harness.open().runs()[1], harness.open().runs()[0]
    assert {k: v for k, v in first.items() if k not in ("started_at", "finished_at")} == {
        "id": "r-1", "command": "apply", "status": "failed", "user": "ana", "host": "ci-1",
        "pid": 11, "summary": {"created": 2, "failed": 1}}
    assert first["finished_at"] >= first["started_at"]
    assert {k: v for k, v in second.items() if k != "started_at"} == {
        "id": "r-2", "command": "destroy", "finished_at": None, "status": "running",
        "user": "bo", "host": "ci-2", "pid": 22, "summary": {}}
    assert [r["id"] for r in store.runs(limit=1)] == ["r-2"]


# -- lock ---------------------------------------------------------------------------------


def locked_message(held: LockInfo, waited: str = "") -> str:
    return (f"state is locked{waited}: lock {held.lock_id} held by {held.user}@{held.host} "
            f"(pid {held.pid}) for `{held.operation}` since {held.since}, run {held.run_id}. "
            "Wait for it to finish, retry with -lock-timeout, or if it is certainly dead run "
            f"`taskform force-unlock {held.lock_id}`")


def test_a_second_acquire_is_refused_naming_the_holder(harness: Harness) -> None:
    holder, other = harness.open(), harness.open()
    held = new_lock_info("r-holder", "apply")
    assert holder.acquire_lock(held, 0) is None
    with pytest.raises(StateLocked) as err:
        other.acquire_lock(new_lock_info("r-me", "destroy"), 0)
    assert str(err.value) == locked_message(held)
    assert other.current_lock() == held


def test_acquire_waits_up_to_its_timeout(harness: Harness) -> None:
    held = new_lock_info("r-holder", "apply")
    holder = harness.open()  # kept: a PostgreSQL holder's lock lives as long as its session
    holder.acquire_lock(held, 0)
    started = time.monotonic()
    with pytest.raises(StateLocked) as err:
        harness.open().acquire_lock(new_lock_info("r-me", "apply"), 0.6)
    assert time.monotonic() - started >= 0.6
    assert str(err.value) == locked_message(held, " (waited 0.6s)")


def test_acquire_gets_the_lock_once_the_holder_releases_it(harness: Harness) -> None:
    holder = harness.open()
    held = new_lock_info("r-holder", "apply")
    holder.acquire_lock(held, 0)
    threading.Timer(0.3, holder.release_lock, [held.lock_id]).start()
    mine = new_lock_info("r-me", "apply")
    started = time.monotonic()
    waiter = harness.open()
    assert waiter.acquire_lock(mine, 10) is None
    assert 0.25 <= time.monotonic() - started < 5
    assert holder.current_lock() == mine


def test_a_lock_held_by_another_process_names_it(harness: Harness) -> None:
    script = ("import sys, time\nfrom runner.state import open_state\n"
              "from runner.state.base import new_lock_info\n"
              "from runner.workspace import open_workspace\n"
              "s = open_state(open_workspace(sys.argv[1]))\n"
              "s.acquire_lock(new_lock_info('r-holder', 'apply'), 0)\n"
              "print('locked', flush=True)\ntime.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", script, str(harness.root)],
                              stdout=subprocess.PIPE, text=True, env=child_env())
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        store = harness.open()
        held = store.current_lock()
        assert held is not None and (held.pid, held.run_id, held.host) == (
            holder.pid, "r-holder", socket.gethostname())
        with pytest.raises(StateLocked) as err:
            store.acquire_lock(new_lock_info("r-me", "apply"), 0)
        assert str(err.value) == locked_message(held)
    finally:
        holder.kill()
        holder.wait()
    # its process is gone (SQLite sees the pid is gone; PostgreSQL's server ended its session
    # and with it the lock): the next acquire takes over within seconds, returning the holder
    started = time.monotonic()
    mine = new_lock_info("r-next", "apply")
    taker = harness.open()
    assert taker.acquire_lock(mine, 10) == held
    assert time.monotonic() - started < 5
    assert harness.open().current_lock() == mine


def test_a_holder_on_another_host_is_never_taken_over(harness: Harness) -> None:
    foreign = LockInfo("abc123", "r-x", "apply", "ci", "other-host", 1, "", "then")
    holder = harness.open()
    holder.acquire_lock(foreign, 0)
    with pytest.raises(StateLocked) as err:
        harness.open().acquire_lock(new_lock_info("r-me", "apply"), 0)
    assert str(err.value) == locked_message(foreign)


def test_a_store_that_holds_the_lock_is_refused_a_second_time(harness: Harness) -> None:
    store = harness.open()
    held = new_lock_info("r-1", "apply")
    store.acquire_lock(held, 0)
    with pytest.raises(StateLocked) as err:
        store.acquire_lock(new_lock_info("r-2", "apply"), 0)
    assert str(err.value) == locked_message(held)
    assert store.current_lock() == held


def test_release_frees_only_the_lock_it_names(harness: Harness) -> None:
    store = harness.open()
    held = new_lock_info("r-1", "apply")
    store.acquire_lock(held, 0)
    store.release_lock("not-mine")
    assert store.current_lock() == held
    store.release_lock(held.lock_id)
    assert store.current_lock() is None
    assert store.acquire_lock(new_lock_info("r-2", "apply"), 0) is None


def test_force_unlock_needs_the_holder_s_lock_id(harness: Harness) -> None:
    store = harness.open()
    foreign = LockInfo("abc123", "r-x", "apply", "ci", "other-host", 1, "", "then")
    store.acquire_lock(foreign, 0)
    with pytest.raises(StateError) as err:
        store.force_unlock("nope")
    assert str(err.value) == ("lock ID 'nope' does not match the current lock: lock abc123 held "
                              "by ci@other-host (pid 1) for `apply` since then, run r-x")
    assert store.current_lock() == foreign
    assert harness.open().force_unlock("abc123") == foreign
    assert store.current_lock() is None
    with pytest.raises(StateError) as err:
        store.force_unlock("abc123")
    assert str(err.value) == "the state is not locked"


def test_a_run_whose_lock_was_forced_away_records_nothing_more(harness: Harness) -> None:
    first, second = harness.open(), harness.open()
    mine = new_lock_info("r-first", "apply")
    first.acquire_lock(mine, 0)
    first.commit(record("pipeline.p.a"), done("pipeline.p.a", "r-first"))
    second.force_unlock(mine.lock_id)
    theirs = new_lock_info("r-second", "apply")
    second.acquire_lock(theirs, 0)
    writes = [lambda: first.commit(record("pipeline.p.b"), done("pipeline.p.b", "r-first")),
              lambda: first.remove("pipeline.p.a", done("pipeline.p.a", "r-first")),
              lambda: first.append(done("pipeline.p.a", "r-first")),
              lambda: first.set_fact(NS, POOL, 3, Event("r-first", "fact")),
              lambda: first.next_id(NS, POOL, Event("r-first", "fact"))]
    for write in writes:
        with pytest.raises(StateError) as err:  # each backend says it in its own words
            write()
        assert "force-unlock" in str(err.value) and "ing more is recorded" in str(err.value)
    assert set(second.records()) == {"pipeline.p.a"} and second.fact(NS, POOL) is None
    assert second.current_lock() == theirs
    second.commit(record("pipeline.p.b"), done("pipeline.p.b", "r-second"))


def test_facts_of_a_namespace_are_listed_by_key(harness: Harness) -> None:
    store = harness.open()
    store.set_fact("taskform.intent", "pipeline.p.a", {"run": "r1"}, Event("r1", "started"))
    store.set_fact("taskform.intent", "pipeline.p.b", {"run": "r2"}, Event("r2", "started"))
    store.set_fact("other", "pipeline.p.a", 1, Event("r1", "fact"))
    assert harness.open().facts("taskform.intent") == {"pipeline.p.a": {"run": "r1"},
                                                       "pipeline.p.b": {"run": "r2"}}
    assert store.facts("nothing") == {}


def test_a_commit_or_a_removal_settles_the_intent_of_its_address(harness: Harness) -> None:
    store = harness.open()
    for address in ("pipeline.p.a", "pipeline.p.b", "pipeline.p.c"):
        store.set_fact(INTENTS, address, {"run": "r1"}, Event("r1", "started", address))
    store.set_fact("other", "pipeline.p.a", 1, Event("r1", "fact"))
    store.commit(record("pipeline.p.a"), done("pipeline.p.a"))
    store.commit(record("pipeline.p.b"), done("pipeline.p.b"))
    store.remove("pipeline.p.b", done("pipeline.p.b"))
    reopened = harness.open()
    assert reopened.facts(INTENTS) == {"pipeline.p.c": {"run": "r1"}}  # its run never settled it
    assert reopened.fact("other", "pipeline.p.a") == 1  # only intents are settled


# -- facts --------------------------------------------------------------------------------


def test_facts_are_stored_by_namespace_and_key_and_forgotten(harness: Harness) -> None:
    store = harness.open()
    value = {"generation": "g1", "accepted": ["one", "two"], "n": 2, "nested": {"x": None}}
    assert store.fact("scenario_set.accepted", "scenario_set.a") is None
    store.set_fact("scenario_set.accepted", "scenario_set.a", value, Event("r1", "fact"))
    store.set_fact("other", "scenario_set.a", 7, Event("r1", "fact"))
    assert harness.open().fact("scenario_set.accepted", "scenario_set.a") == value
    assert store.fact("scenario_set.accepted", "scenario_set.b") is None
    assert store.fact("other", "scenario_set.a") == 7
    store.set_fact("scenario_set.accepted", "scenario_set.a", ["replaced"], Event("r1", "fact"))
    assert store.fact("scenario_set.accepted", "scenario_set.a") == ["replaced"]
    store.set_fact("scenario_set.accepted", "scenario_set.a", None, Event("r1", "fact"))
    assert harness.open().fact("scenario_set.accepted", "scenario_set.a") is None
    assert store.fact("other", "scenario_set.a") == 7


def test_a_fact_change_writes_its_event_and_no_change_writes_none(harness: Harness) -> None:
    store = harness.open()
    event = Event("r1", "fact", "scenario_set.a", "scenario_set.accepted set", {}, "t1")
    store.set_fact("scenario_set.accepted", "scenario_set.a", {"a": 1}, event)
    store.set_fact("scenario_set.accepted", "scenario_set.a", {"a": 1}, replace(event, ts="t2"))
    assert store.events() == [event]


def test_next_id_hands_out_ranges_that_never_go_back(harness: Harness) -> None:
    store = harness.open()
    event = Event("r1", "fact", POOL, ts="t")
    assert store.next_id(NS, POOL, event) == 0
    assert store.next_id(NS, POOL, event, count=3) == 1
    assert store.fact(NS, POOL) == 4
    assert store.next_id(NS, POOL, event, count=2, floor=10) == 10
    assert store.next_id(NS, POOL, event, count=0, floor=5) == 12  # never lowered
    assert store.next_id(NS, POOL, event, count=0, floor=20) == 20
    assert store.next_id(NS, "task_pool.other", replace(event, address="task_pool.other")) == 0
    assert harness.open().fact(NS, POOL) == 20
    assert [(e.message, e.data) for e in store.events(address=POOL)] == [
        (f"{NS}: handed out 0..0, next id 1", {"namespace": NS, "first": 0, "count": 1}),
        (f"{NS}: handed out 1..3, next id 4", {"namespace": NS, "first": 1, "count": 3}),
        (f"{NS}: handed out 10..11, next id 12", {"namespace": NS, "first": 10, "count": 2}),
        (f"{NS}: next id 20", {"namespace": NS, "first": 20, "count": 0})]


def test_next_id_refuses_a_fact_that_is_not_a_whole_number(harness: Harness) -> None:
    store = harness.open()
    store.set_fact(NS, POOL, "seven", Event("r1", "fact"))
    with pytest.raises(StateError) as err:
        store.next_id(NS, POOL, Event("r1", "fact"))
    assert str(err.value) == f"fact {NS} of {POOL} holds 'seven', not a next id"
    assert store.fact(NS, POOL) == "seven"


def test_next_id_from_many_threads_never_hands_out_an_id_twice(harness: Harness) -> None:
    shared = harness.open()
    got: list[int] = []
    guard = threading.Lock()

    def allocate(store: object, count: int) -> None:
        for _ in range(20):
            first = store.next_id(NS, POOL, Event("r1", "fact"), count=count)  # type: ignore[attr-defined]
            with guard:
                got.extend(range(first, first + count))

    # half share one connection (apply's workers do), half have their own (other runners)
    threads = [threading.Thread(target=allocate, args=(shared, 1 + n % 3)) for n in range(6)]
    threads += [threading.Thread(target=allocate, args=(harness.open(), 2)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(len(got)))
    assert shared.fact(NS, POOL) == len(got) == 20 * (1 + 2 + 3 + 1 + 2 + 3 + 2 * 4)


def test_next_id_from_many_processes_never_hands_out_an_id_twice(harness: Harness) -> None:
    harness.open().close()  # created (and migrated) once, before the race
    script = ("import sys\nfrom runner.state import open_state\n"
              "from runner.state.base import Event\nfrom runner.workspace import open_workspace\n"
              "s = open_state(open_workspace(sys.argv[1]))\n"
              "for _ in range(40):\n"
              f"    print(s.next_id({NS!r}, {POOL!r}, Event('r', 'fact')), flush=True)\n")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(harness.root)],
                              stdout=subprocess.PIPE, text=True, env=child_env())
             for _ in range(4)]
    got = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        got += [int(line) for line in out.split()]
    assert sorted(got) == list(range(160))


# -- schema migrations --------------------------------------------------------------------


def test_a_state_of_every_older_schema_opens_and_upgrades(harness: Harness,
                                                         tmp_path: Path) -> None:
    for version in range(harness.latest):
        old = harness_for(harness.name, tmp_path / f"v{version}")
        old.build_at(version)
        store = old.open()
        assert old.schema_version() == old.latest, f"from schema {version}"
        if version:
            [kept] = store.records().values()
            assert (kept.address, kept.status, kept.error, kept.output, kept.run_id) == (
                OLD_ADDRESS, "failed", OLD_ERROR, OLD_OUTPUT, OLD_RUN), f"from schema {version}"
            assert [(e.run_id, e.event) for e in store.events()] == [(OLD_RUN, "failed")]
            assert [(r["id"], r["summary"]) for r in store.runs()] == [(OLD_RUN, {"failed": 1})]
        assert store.serial() == (1 if version else 0)
        assert store.next_id(NS, POOL, Event("r1", "fact")) == 0  # every table is there
        store.close()


def test_a_newer_schema_is_refused_with_upgrade_advice(harness: Harness) -> None:
    harness.open().close()
    harness.set_schema_version(harness.latest + 1)
    with pytest.raises(StateError) as err:
        harness.open()
    message = str(err.value)
    assert message.startswith("state ") and message.endswith(
        f" has schema version {harness.latest + 1}, newer than this taskform understands "
        f"({harness.latest}): upgrade taskform"), message


def test_a_state_opened_by_many_processes_at_once_is_created_once(harness: Harness) -> None:
    script = ("import sys\nfrom runner.state import open_state\n"
              "from runner.workspace import open_workspace\n"
              "print(open_state(open_workspace(sys.argv[1])).serial())\n")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(harness.root)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=child_env()) for _ in range(6)]
    outs = [proc.communicate(timeout=120) for proc in procs]
    assert [(p.returncode, out) for p, (out, _) in zip(procs, outs, strict=True)] == [(0, "0\n")] * 6
    assert harness.schema_version() == harness.latest
