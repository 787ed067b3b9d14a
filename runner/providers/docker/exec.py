"""Run a command in a running container (docker exec through the API): stream its output,
keep a tail, and stop it at the call's deadline or on cancellation.

The deadline is enforced inside the container with coreutils `timeout -k` (the whole process
tree it started dies), and on the host by no longer waiting for a command that outlives it."""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runner.errors import Cancelled, StepTimeout
from runner.providers.call import Call
from runner.providers.docker.engine import DockerEngine
from runner.providers.local import Tail

KILL_GRACE_SECONDS = 2
HOST_GRACE_SECONDS = 5.0
TIMEOUT_EXIT_CODES = (124, 137)  # timeout's own code; SIGKILL after the grace


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    output: str
    seconds: float


def run_in_container(engine: DockerEngine, container_id: str, argv: list[str], call: Call, *,
                     workdir: str | None = None, user: str | None = None,
                     env: Mapping[str, str] | None = None, limit: int = 64 * 1024) -> ExecResult:
    """Run argv in the container; raise StepTimeout past the deadline, Cancelled on cancel."""
    remaining = call.remaining()
    wrapped = argv if remaining is None else \
        ["timeout", "-k", str(KILL_GRACE_SECONDS), str(max(1, math.ceil(remaining))), *argv]
    started = time.monotonic()
    exec_id, stream = engine.exec_start(container_id, wrapped, workdir=workdir, user=user or "",
                                        env=env, demux=True)
    tail = Tail(limit)
    finished = _pump(call, stream, tail)
    if not finished:
        engine.kill_exec(exec_id)
        if call.cancelled.is_set():
            raise Cancelled(call.what)
        raise StepTimeout(f"timed out after {time.monotonic() - started:.1f}s", output=tail.text())
    code = engine.exec_exit_code(exec_id)
    seconds = time.monotonic() - started
    if remaining is not None and code in TIMEOUT_EXIT_CODES and seconds >= remaining - 0.5:
        raise StepTimeout(f"timed out after {seconds:.1f}s; `timeout -k` killed the command "
                          "inside the container", output=tail.text())
    return ExecResult(exit_code=int(code if code is not None else -1), output=tail.text(),
                      seconds=seconds)


def _pump(call: Call, stream: Any, tail: Tail) -> bool:
    """Copy the exec's output into `tail` and the log; False when we stopped waiting."""
    chunks: queue.Queue[tuple[bytes | None, bytes | None] | None] = queue.Queue()

    def read() -> None:
        try:
            for pair in stream:
                chunks.put(pair)
        except Exception:  # noqa: BLE001 - the connection dies with its container; the
            pass  # exec's exit code (or the deadline) tells what happened, not this thread
        finally:
            chunks.put(None)

    threading.Thread(target=read, daemon=True, name="docker-exec").start()
    partial = b""
    while True:
        if call.cancelled.is_set():
            return False
        if call.deadline is not None and time.monotonic() > call.deadline + HOST_GRACE_SECONDS:
            return False
        try:
            item = chunks.get(timeout=0.1)
        except queue.Empty:
            continue
        if item is None:
            if partial:
                call.log(partial.decode("utf-8", "replace"))
            return True
        for chunk in item:
            if chunk:
                tail.add(chunk)
                lines = (partial + chunk).split(b"\n")
                partial = lines.pop()
                for line in lines:
                    call.log(line.decode("utf-8", "replace"))
