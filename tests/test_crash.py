"""SIGKILL an apply of a few hundred steps at random moments; the state always opens, no step
process outlives the killed apply, every step recorded as done ran exactly once (in the run
that recorded it, and never again), a step that ran without being recorded is one the next plan
names as interrupted, and a rerun converges with no repeated work."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter

import pytest

from tests.conftest import subprocess_env

STEPS = 300
KILLS = 20


MARK = "0.1042"  # the steps' sleep: how the test finds their processes


def write_specs(ws) -> None:
    ws.configure("parallelism: 4\n")  # about ten seconds of work to interrupt
    lines = ["apiVersion: taskform/v1", "kind: Pipeline", "metadata: {name: crash}", "spec:",
             "  steps:"]
    for i in range(STEPS):
        lines.append(f"    s{i}:")
        lines.append(f"      shell: {{command: 'sleep {MARK}; "
                     "echo \"$TASKFORM_ADDRESS $TASKFORM_RUN\" >> effects.log'}")
        if i % 10:
            lines.append(f"      depends_on: [s{i - 1}]")
    ws.write("specs/crash.yaml", "\n".join(lines) + "\n")


def effects(ws) -> list[tuple[str, str]]:
    """(address, run id) of every time a step really ran, in the order they ran."""
    path = ws.root / "effects.log"
    text = path.read_text() if path.exists() else ""
    return [tuple(line.split()) for line in text.splitlines()]  # type: ignore[misc]


def survivors(mark: str) -> list[str]:
    """Step processes still running (found by their command line)."""
    out = subprocess.run(["pgrep", "-af", f"sleep {mark}"], capture_output=True, text=True)
    return [line for line in out.stdout.splitlines() if "pgrep" not in line]


def interrupted(ws) -> dict[str, str]:
    """What the next plan says was interrupted: address -> the run that began it."""
    plan = subprocess.run([sys.executable, "-m", "runner", "-C", str(ws.root), "plan",
                           "-refresh=false"], capture_output=True, text=True,
                          env=subprocess_env(), timeout=120)
    assert plan.returncode == 0, plan.stderr
    out, address = {}, ""
    for line in plan.stdout.splitlines():
        if line.startswith("  ") and "(shell, " in line:
            address = line.split()[1]
        marker = "# interrupted during run "
        if marker in line:
            out[address] = line.split(marker)[1].split(";")[0]
    return out


def check_unrecorded(ws, done: dict[str, str], named: dict[str, str]) -> None:
    """A step that ran in a run without being recorded by it is recorded since, or one the
    plan names as interrupted (by the last run that began it) and does again."""
    for address, run_id in effects(ws):
        if done.get(address) != run_id:
            assert address in named or address in done, \
                f"{address} ran in {run_id} unrecorded, and the plan does not say so"


def check_integrity(ws) -> None:
    """The state opens and its storage is sound (SQLite: the file; PostgreSQL: the server
    keeps its own, so the rows must be readable and the serial count every commit)."""
    store = ws.state()
    if ws.backend == "sqlite":
        conn = sqlite3.connect(ws.root / ".taskform" / "state.db")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
    # records committed, and the intents recorded before steps with side effects
    committed = ("done", "failed", "skipped", "cancelled", "started", "not-started")
    changes = [e for e in store.events(limit=100_000) if e.event in committed]
    assert store.serial() == len(changes), "the serial counts every committed resource"
    store.close()


def check_state(ws, done_before: dict[str, str]) -> dict[str, str]:
    """Every recorded step ran exactly once in the run that recorded it, and never again."""
    check_integrity(ws)
    records = ws.state().records()
    ran = effects(ws)
    counts = Counter(ran)
    done = {a: r.run_id for a, r in records.items() if r.status == "ok"}
    for address, run_id in done.items():
        assert counts[(address, run_id)] == 1, f"{address} recorded by {run_id} ran " \
                                               f"{counts[(address, run_id)]} times in that run"
        recorded_at = ran.index((address, run_id))
        again = [r for a, r in ran[recorded_at + 1:] if a == address]
        assert not again, f"{address} ran again in {again} after {run_id} recorded it"
    for address, run_id in done_before.items():
        assert done[address] == run_id, f"{address} was redone after being recorded"
    return done


def working(proc: subprocess.Popen[bytes], log) -> None:
    """Wait until the apply has started its work (its first step), so each kill lands inside
    the work however slowly a busy machine starts Python."""
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if "creating..." in log.read_text():
            return
        time.sleep(0.02)


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing(backend_ws):
    ws = backend_ws
    write_specs(ws)
    rng = random.Random(20261124)
    done: dict[str, str] = {}
    kills = 0
    for attempt in range(KILLS * 3):
        log = ws.root.parent / f"apply-{attempt}.log"
        with open(log, "w") as out:
            proc = subprocess.Popen([sys.executable, "-m", "runner", "-C", str(ws.root),
                                     "apply", "-auto-approve"], stdout=out,
                                    stderr=subprocess.STDOUT, env=subprocess_env())
        working(proc, log)
        time.sleep(rng.uniform(0.0, 0.6))
        finished = proc.poll() is not None
        if not finished:
            os.kill(proc.pid, signal.SIGKILL)  # the apply alone: its steps must die with it
            kills += 1
        proc.wait()
        for _ in range(500):  # the parent-death signal is asynchronous: a moment, on a busy
            if not survivors(MARK):  # machine a few seconds before the leader is scheduled
                break
            time.sleep(0.02)
        assert survivors(MARK) == []
        done = check_state(ws, done)
        check_unrecorded(ws, done, interrupted(ws))
        if finished or kills >= KILLS:
            break
    assert kills >= KILLS, f"only {kills} kills happened before the apply finished"
    assert done, "no step was recorded across all the killed runs"
    final = subprocess.run([sys.executable, "-m", "runner", "-C", str(ws.root), "apply",
                            "-auto-approve"], capture_output=True, text=True,
                           env=subprocess_env(), timeout=300)
    assert final.returncode == 0, final.stdout[-2000:] + final.stderr[-2000:]
    done = check_state(ws, done)
    assert len(done) == STEPS
    plan = subprocess.run([sys.executable, "-m", "runner", "-C", str(ws.root), "plan",
                           "-detailed-exitcode"], capture_output=True, text=True,
                          env=subprocess_env(), timeout=120)
    assert plan.returncode == 0, plan.stdout
    assert plan.stdout == f"No changes. {STEPS} resources match the specs.\n"


@pytest.mark.slow
def test_a_killed_apply_takes_its_steps_with_it_and_the_next_plan_names_them(backend_ws):
    ws = backend_ws
    ws.configure("parallelism: 4\n")
    mark = "2.0731"
    ws.spec("apiVersion: taskform/v1\nkind: Pipeline\nmetadata: {name: k}\nspec:\n  steps:\n"
            + "".join(f"    s{i}: {{shell: {{command: 'sleep {mark}; echo s{i} >> effects.log'}}}}\n"
                      for i in range(6)))
    proc = subprocess.Popen([sys.executable, "-m", "runner", "-C", str(ws.root), "apply",
                             "-auto-approve"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=subprocess_env())
    for _ in range(200):
        if len(survivors(mark)) >= 4:
            break
        time.sleep(0.05)
    running = len(survivors(mark))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    for _ in range(500):
        if not survivors(mark):
            break
        time.sleep(0.02)
    assert running >= 4 and survivors(mark) == []
    time.sleep(2.5)  # had a step survived, it would have written by now
    assert not (ws.root / "effects.log").exists()
    named = interrupted(ws)
    assert len(named) == 4 and len(set(named.values())) == 1
    killed = next(iter(named.values()))
    applied = ws.run("apply", "-auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert sorted((ws.root / "effects.log").read_text().split()) == [f"s{i}" for i in range(6)]
    history = ws.run("state", "history")
    assert any(killed in line and "interrupted" in line for line in history.stdout.splitlines()), \
        history.stdout
