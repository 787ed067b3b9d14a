"""Ctrl-C: the first stops new work and lets running steps finish; the second cancels them.
Everything finished is recorded and a rerun converges."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tests.conftest import subprocess_env

SPECS = """
    apiVersion: taskform/v1
    kind: Pipeline
    metadata: {name: p}
    spec:
      steps:
        long:
          shell: {command: "sleep 2; touch long.done"}
        other:
          shell: {command: "touch other.done"}
          depends_on: [long]
    """


def start(ws) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-m", "runner", "-C", str(ws.root), "apply",
                             "-auto-approve"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=subprocess_env())
    assert proc.stdout is not None
    for line in proc.stdout:
        if "pipeline.p.long: creating..." in line:
            return proc
    pytest.fail(f"the apply ended (exit {proc.wait()}) before starting pipeline.p.long")


@pytest.mark.slow
def test_first_interrupt_lets_running_steps_finish(ws):
    ws.spec(SPECS)
    proc = start(ws)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "Interrupt received: no new work will start; running steps are finishing" in out
    assert "pipeline.p.long: created" in out
    assert out.endswith("Interrupted: 1 created, 0 updated, 0 replaced, 0 destroyed; 1 not "
                        "started.\n")
    assert (ws.root / "long.done").exists() and not (ws.root / "other.done").exists()
    assert ws.state().records()["pipeline.p.long"].status == "ok"
    rerun = ws.cli("apply", "-auto-approve")
    assert "Complete: 1 created" in rerun.output
    assert (ws.root / "other.done").exists()


@pytest.mark.slow
def test_second_interrupt_cancels_running_steps(ws):
    ws.spec(SPECS)
    proc = start(ws)
    proc.send_signal(signal.SIGINT)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("Interrupt received")
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "Second interrupt: cancelling running steps." in out
    assert "pipeline.p.long: FAILED [" in out and "]: cancelled by interrupt\n" in out
    assert not (ws.root / "long.done").exists()
    record = ws.state().records()["pipeline.p.long"]
    assert record.status == "failed" and record.error == "cancelled by interrupt"
    assert "# the last apply failed: cancelled by interrupt" in ws.cli("plan").output
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    assert (ws.root / "long.done").exists() and (ws.root / "other.done").exists()
