"""`taskform watch`: plan and apply in a loop, a log line per cycle, a failed cycle survived,
and a clean stop on Ctrl-C (between cycles, or during an apply after running steps finish)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import IO

from tests.conftest import subprocess_env

FLAKY = """
apiVersion: taskform/v1
kind: Pipeline
metadata: {name: loop}
spec:
  steps:
    flaky:
      shell:
        command: if [ -f marker ]; then echo second time; else touch marker; exit 3; fi
"""


def test_a_failed_cycle_is_survived(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(FLAKY)
    result = ws.cli("watch", "--interval", "0.1s", "--cycles", "3")
    assert result.exit_code == 0, result.output
    lines = [line.split("] ", 1)[1] for line in result.stdout.splitlines() if "] watch: " in line]
    assert lines[0] == "watch: cycle 1: planning"
    assert lines[1] == "watch: plan: 1 to create"
    assert re.fullmatch(r"watch: cycle 1 FAILED in \d+\.\ds: 1 failed", lines[2])
    assert "s: 1 failed\n  pipeline.loop.flaky: command exited with code 3\n" in result.stdout
    assert "watch: next cycle in 0.1s" in lines
    assert any(line.startswith("watch: cycle 2 done in ") and line.endswith(": 1 updated")
               for line in lines)
    assert any(line.startswith("watch: cycle 3 done in ") and
               line.endswith(": no changes (1 resources match the specs)") for line in lines)
    assert lines[-1] == "watch: stopped after 3 cycle(s)"
    assert ws.state().records()["pipeline.loop.flaky"].outputs["stdout"] == "second time\n"


def test_with_cycles_a_failing_last_cycle_exits_1(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(FLAKY.replace("touch marker; exit 3", "exit 3"))
    result = ws.cli("watch", "--interval", "0s", "--cycles", "2")
    assert result.exit_code == 1
    assert result.stdout.count("FAILED in") == 2


def test_a_spec_error_fails_the_cycle_not_the_loop(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec("apiVersion: taskform/v1\nkind: Nope\n")
    result = ws.cli("watch", "--interval", "0s", "--cycles", "2")
    assert result.exit_code == 1
    assert result.stdout.count("watch: cycle 1 failed: 1 error in the specs:") == 1
    assert result.stdout.count("watch: cycle 2 failed: 1 error in the specs:") == 1
    assert "Traceback" not in result.stderr


def start(ws, *args: str) -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    return subprocess.Popen([sys.executable, "-u", "-m", "runner", "-C", str(ws.root), "watch",
                             *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=subprocess_env(), cwd=ws.root)


def lines_of(stream: IO[str]) -> Iterator[str]:
    for line in stream:
        yield line.rstrip("\n")


def test_ctrl_c_between_cycles_stops_cleanly(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(FLAKY.replace("if [ -f marker ]; then echo second time; else touch marker; exit 3; "
                          "fi", "echo hello"))
    proc = start(ws, "--interval", "60s")
    seen = []
    assert proc.stdout is not None
    for line in lines_of(proc.stdout):
        seen.append(line)
        if line.endswith("watch: next cycle in 60s"):
            proc.send_signal(signal.SIGINT)
            break
    rest = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, "\n".join(seen) + rest
    assert rest.rstrip().endswith("watch: stopped by interrupt after 1 cycle(s); everything "
                                  "finished is recorded")
    assert ws.cli("apply", "-auto-approve").exit_code == 0  # the lock was released


def test_ctrl_c_during_an_apply_lets_running_steps_finish(ws) -> None:  # type: ignore[no-untyped-def]
    ws.spec(FLAKY.replace("if [ -f marker ]; then echo second time; else touch marker; exit 3; "
                          "fi", "sleep 1; echo slept"))
    proc = start(ws, "--interval", "60s")
    assert proc.stdout is not None
    for line in lines_of(proc.stdout):
        if line == "pipeline.loop.flaky: creating...":
            proc.send_signal(signal.SIGINT)
            break
    rest = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, rest
    assert "Interrupt received: no new work will start" in rest
    assert "pipeline.loop.flaky: created" in rest
    assert "watch: stopped by interrupt after 1 cycle(s)" in rest
    assert ws.state().records()["pipeline.loop.flaky"].outputs["stdout"] == "slept\n"
