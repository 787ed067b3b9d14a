"""Whole applies on the PostgreSQL backend, as real processes: two workspaces in one database
apply at once, a holder killed mid-apply frees the lock within seconds, and a connection lost
during apply fails the run clearly with everything finished already recorded."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import Workspace, subprocess_env

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("postgres")]

SLOW = """
apiVersion: taskform/v1
kind: Pipeline
metadata: {name: p}
spec:
  steps:
    slow:
      shell: {command: "sleep 2; echo ran >> runs.log"}
"""


def pg_workspace(tmp_path, postgres, name: str) -> Workspace:  # type: ignore[no-untyped-def]
    root = tmp_path / name
    root.mkdir()
    ws = Workspace(root, "postgresql", f"state: {{backend: postgresql, url: '{postgres.url()}', "
                                       f"workspace: {name}-{uuid.uuid4().hex[:8]}}}\n")
    ws.configure()
    return ws


def apply(ws: Workspace, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "runner", "-C", str(ws.root), "apply",
                             "-auto-approve", *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=subprocess_env(),
                            start_new_session=True)


def wait_for_line(proc: subprocess.Popen[str], text: str) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if text in line:
            return
    raise AssertionError(f"the apply ended before printing {text!r}: {proc.stderr.read()}")  # type: ignore[union-attr]


def test_two_workspaces_in_one_database_apply_at_once(tmp_path, postgres) -> None:  # type: ignore[no-untyped-def]
    first, second = (pg_workspace(tmp_path, postgres, n) for n in ("team-a", "team-b"))
    release = tmp_path / "release"
    first.spec(SLOW.replace("sleep 2", f"while [ ! -e {release} ]; do sleep 0.05; done"))
    second.spec(SLOW)
    holder = apply(first)  # holds its workspace's lock until the release file appears
    wait_for_line(holder, "creating...")
    other = apply(second)  # no -lock-timeout: a shared lock would refuse it at once
    assert (other.wait(timeout=120), other.stderr.read()) == (0, "")  # type: ignore[union-attr]
    assert holder.poll() is None, "the first apply ended before the second was done"
    release.touch()
    assert (holder.wait(timeout=120), holder.stderr.read()) == (0, "")  # type: ignore[union-attr]
    for ws in (first, second):
        assert (ws.root / "runs.log").read_text() == "ran\n"
        assert list(ws.state().records()) == ["pipeline.p.slow"]


def test_a_holder_killed_mid_apply_frees_the_lock_within_seconds(tmp_path, postgres) -> None:  # type: ignore[no-untyped-def]
    ws = pg_workspace(tmp_path, postgres, "killed")
    ws.spec(SLOW)
    holder = apply(ws)
    wait_for_line(holder, "creating...")
    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait()
    killed = time.monotonic()
    again = apply(ws, "-lock-timeout", "30s")
    wait_for_line(again, "creating...")
    assert time.monotonic() - killed < 5
    assert again.wait(timeout=60) == 0
    note = again.stderr.read()  # type: ignore[union-attr]
    assert re.fullmatch(rf"Note: took over a stale lock; lock \w+ held by \S+@\S+ \(pid "
                        rf"{holder.pid}\) for `apply` since \S+, run r-\S+\n", note), note


def test_a_connection_lost_during_apply_fails_the_run_clearly(tmp_path, postgres) -> None:  # type: ignore[no-untyped-def]
    ws = pg_workspace(tmp_path, postgres, "lost")
    ws.configure("parallelism: 1\n")
    steps = "\n".join(f"    s{i}:\n      shell: {{command: 'sleep 0.2; echo s{i} >> runs.log'}}"
                      + (f"\n      depends_on: [s{i - 1}]" if i else "") for i in range(20))
    ws.spec(f"apiVersion: taskform/v1\nkind: Pipeline\nmetadata: {{name: p}}\nspec:\n"
            f"  steps:\n{steps}\n")
    name = ws._settings().workspace
    proc = apply(ws)
    wait_for_line(proc, "pipeline.p.s3: created")
    with postgres.connect() as conn:
        ended = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                             "application_name = %s", (f"taskform state {name}",)).fetchall()
    assert ended == [(True,)]
    assert proc.wait(timeout=60) == 1
    error = proc.stderr.read()  # type: ignore[union-attr]
    message = re.fullmatch(
        rf"Error: lost the connection to the state database {re.escape(postgres.url())} "
        # lost while recording a result, or the intent recorded before a step begins
        rf"\(workspace {name}\) while (?:recording|storing taskform\.intent of) "
        rf"pipeline\.p\.s(\d+): terminating connection "
        r"due to administrator command\. Everything finished before was recorded; run the "
        r"command again to go on\n", error)
    assert message, error
    unrecorded = int(message[1])
    recorded = ws.state().records()
    assert sorted(recorded, key=lambda a: int(a.rsplit("s", 1)[1])) == [
        f"pipeline.p.s{i}" for i in range(unrecorded)]
    rerun = ws.run("apply", "-auto-approve")  # the lock went with the run: no waiting
    assert rerun.returncode == 0, rerun.stderr
    # the step whose record was lost ran once before the loss and once more in the rerun; none
    # of those recorded before ran again
    ran = (ws.root / "runs.log").read_text().split()
    assert ran == [f"s{i}" for i in range(unrecorded + 1)] + \
        [f"s{i}" for i in range(unrecorded, 20)]
    assert len(ws.state().records()) == 20
