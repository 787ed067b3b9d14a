"""SIGKILL an apply of a few hundred steps at random moments; the state always opens, every step
recorded as done ran exactly once (in the run that recorded it, and never again), and a rerun
converges with no repeated work."""

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


def write_specs(ws) -> None:
    ws.configure("parallelism: 4\n")  # about ten seconds of work to interrupt
    lines = ["apiVersion: taskform/v1", "kind: Pipeline", "metadata: {name: crash}", "spec:",
             "  steps:"]
    for i in range(STEPS):
        lines.append(f"    s{i}:")
        lines.append("      shell: {command: 'sleep 0.1; "
                     "echo \"$TASKFORM_ADDRESS $TASKFORM_RUN\" >> effects.log'}")
        if i % 10:
            lines.append(f"      depends_on: [s{i - 1}]")
    ws.write("specs/crash.yaml", "\n".join(lines) + "\n")


def effects(ws) -> list[tuple[str, str]]:
    """(address, run id) of every time a step really ran, in the order they ran."""
    path = ws.root / "effects.log"
    text = path.read_text() if path.exists() else ""
    return [tuple(line.split()) for line in text.splitlines()]  # type: ignore[misc]


def check_integrity(ws) -> None:
    """The state opens and its storage is sound (SQLite: the file; PostgreSQL: the server
    keeps its own, so the rows must be readable and the serial count every commit)."""
    store = ws.state()
    if ws.backend == "sqlite":
        conn = sqlite3.connect(ws.root / ".taskform" / "state.db")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
    committed = ("done", "failed", "skipped", "cancelled")
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
                                    stderr=subprocess.STDOUT, env=subprocess_env(),
                                    start_new_session=True)
        working(proc, log)
        time.sleep(rng.uniform(0.0, 0.6))
        finished = proc.poll() is not None
        if not finished:
            os.killpg(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        time.sleep(0.15)  # let orphaned steps of the killed run finish their echo
        done = check_state(ws, done)
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
