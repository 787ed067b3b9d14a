"""Local processes: run a command in its own process group, stream its output, and kill the
whole group at the deadline or on cancellation."""

from __future__ import annotations

import functools
import os
import selectors
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

KILL_GRACE_SECONDS = 2.0
# The leader of the step's process group: when taskform dies (even by SIGKILL) the kernel sends
# it SIGTERM (util-linux's `setpriv --pdeathsig`), and it kills its whole group, so no step
# process outlives the apply that started it. It waits for the command and exits with its
# status. (A preexec_fn could ask for the same signal, but is unsafe in a threaded program.)
# A taskform that died before the signal was asked for (between fork and setpriv's prctl) left
# it an orphan: the leader sees that its parent is no longer the taskform that started it, and
# runs nothing.
GROUP_LEADER = ('trap "kill -KILL 0" TERM; [ "$PPID" = "$1" ] || exit 137; shift; '
                '"$@" & wait $!')


@dataclass(frozen=True)
class ProcessResult:
    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool
    cancelled: bool
    truncated: bool
    seconds: float


class Tail:
    """Keeps the last `limit` bytes of a stream."""

    def __init__(self, limit: int):
        self.limit, self.data, self.dropped = limit, bytearray(), 0

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        extra = len(self.data) - self.limit
        if extra > 0:
            del self.data[:extra]
            self.dropped += extra

    def text(self) -> str:
        text = self.data.decode("utf-8", "replace")
        return f"[... {self.dropped} bytes cut ...]\n{text}" if self.dropped else text


def run_process(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None,
                deadline: float | None = None, cancelled: threading.Event | None = None,
                on_line: Callable[[str], None] | None = None,
                limit: int = 64 * 1024) -> ProcessResult:
    """Run `argv`; at `deadline` (monotonic) or on `cancelled`, kill its whole process group."""
    started = time.monotonic()
    leader = _leader()
    proc = subprocess.Popen([*leader, str(os.getpid()), *argv] if leader else list(argv),
                            cwd=cwd,
                            env=dict(env) if env is not None else None,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    tails = {"stdout": Tail(limit), "stderr": Tail(limit)}
    partial = {"stdout": b"", "stderr": b""}
    sel = selectors.DefaultSelector()
    assert proc.stdout and proc.stderr
    sel.register(proc.stdout, selectors.EVENT_READ, "stdout")
    sel.register(proc.stderr, selectors.EVENT_READ, "stderr")
    timed_out = was_cancelled = False
    while sel.get_map():
        if deadline is not None and time.monotonic() >= deadline:
            timed_out = True
            break
        if cancelled is not None and cancelled.is_set():
            was_cancelled = True
            break
        wait = 0.1 if deadline is None else max(0.0, min(0.1, deadline - time.monotonic()))
        for key, _ in sel.select(wait):
            chunk = os.read(key.fd, 65536)
            name = key.data
            if not chunk:
                sel.unregister(key.fileobj)
                continue
            tails[name].add(chunk)
            if on_line:
                lines = (partial[name] + chunk).split(b"\n")
                partial[name] = lines.pop()
                for line in lines:
                    on_line(line.decode("utf-8", "replace"))
    if timed_out or was_cancelled:
        kill_group(proc)
    sel.close()
    exit_code = proc.wait()
    proc.stdout.close()
    proc.stderr.close()
    return ProcessResult(exit_code=exit_code, stdout=tails["stdout"].text(),
                         stderr=tails["stderr"].text(), timed_out=timed_out,
                         cancelled=was_cancelled,
                         truncated=bool(tails["stdout"].dropped or tails["stderr"].dropped),
                         seconds=time.monotonic() - started)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL it after a short grace."""
    for sig, grace in ((signal.SIGTERM, KILL_GRACE_SECONDS), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            # the leader is gone; make sure no member of the group survives it
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue
        return


@functools.cache
def _leader() -> tuple[str, ...]:
    """The argv prefix that makes the command's group die with taskform (see GROUP_LEADER);
    empty where setpriv cannot ask for a parent-death signal."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return ()
    return (setpriv, "--pdeathsig", "TERM", "--", "/bin/sh", "-c", GROUP_LEADER, "taskform-step")
