"""Two applies on one state at once, on every backend: exactly one runs, the other names the
holder (or waits for it with -lock-timeout)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import subprocess_env


@pytest.mark.slow
def test_two_applies_exactly_one_runs(backend_ws):
    ws = backend_ws
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            slow:
              shell: {command: "sleep 2; echo ran >> runs.log"}
        """)
    argv = [sys.executable, "-m", "runner", "-C", str(ws.root), "apply", "-auto-approve"]
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=subprocess_env()) for _ in range(2)]
    results = [(p.pid, *p.communicate(timeout=60), p.returncode) for p in procs]
    winners = [r for r in results if r[3] == 0]
    losers = [r for r in results if r[3] != 0]
    assert len(winners) == 1 and len(losers) == 1, results
    winner_pid = winners[0][0]
    _, out, err, code = losers[0]
    assert code == 1
    assert err.startswith("Error: state is locked: lock ")
    assert f"(pid {winner_pid}) for `apply` since " in err
    assert (ws.root / "runs.log").read_text() == "ran\n"


@pytest.mark.slow
def test_lock_timeout_waits_for_the_holder(backend_ws):
    ws = backend_ws
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            slow:
              shell: {command: "sleep 2"}
        """)
    argv = [sys.executable, "-m", "runner", "-C", str(ws.root), "apply", "-auto-approve"]
    first = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=subprocess_env())
    assert first.stdout is not None
    while "creating..." not in first.stdout.readline():
        pass
    second = subprocess.run(argv + ["-lock-timeout", "30s"], capture_output=True, text=True,
                            env=subprocess_env(), timeout=60)
    first.wait(timeout=60)
    assert first.returncode == 0
    assert second.returncode == 0, second.stderr
    assert second.stdout == "No changes. 1 resource matches the specs.\n"


@pytest.mark.slow
def test_an_apply_whose_lock_is_forced_away_records_nothing_more(backend_ws):
    ws = backend_ws
    ws.configure()
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            slow:
              shell: {command: "sleep 2; echo ran >> runs.log"}
        """)
    argv = [sys.executable, "-m", "runner", "-C", str(ws.root), "apply", "-auto-approve"]
    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=subprocess_env())
    assert first.stdout is not None
    while "creating..." not in first.stdout.readline():
        pass
    lock_id = ws.state().current_lock().lock_id
    unlocked = ws.run("force-unlock", "-force", lock_id)
    assert unlocked.returncode == 0, unlocked.stderr
    out, err = first.communicate(timeout=60)
    assert first.returncode == 1
    if ws.backend == "sqlite":
        assert err.startswith(f"Error: this run's state lock {lock_id} was removed "
                              "(force-unlock); the state is unlocked. Nothing more is recorded "
                              "by this run: make a new plan\n"), err
    else:  # the server ended the holder's session: the lock went with it
        assert err.startswith("Error: this run no longer holds the state lock of postgresql://"), err
        assert "(force-unlock, or its database session ended) while recording pipeline.p.slow: " \
            "nothing more is recorded." in err
    assert ws.state().records() == {}  # its step finished, but the run had lost the right to say so
    assert ws.run("plan").stdout.count("# interrupted during run") == 1
