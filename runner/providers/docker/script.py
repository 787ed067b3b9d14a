"""Run one generated script as root in a running container, in one exec, with a host-side
watchdog: the host stops waiting at the watchdog, the call's deadline or a cancellation, and
says which one fired (the caller then discards the container: whatever ran in it is unknown).

The script travels as the argument of `bash -c`; one too large for an argument (the kernel
caps a single one at 128 KiB) is copied in first as a root-only file that removes itself."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from runner.providers.call import Call
from runner.providers.docker.engine import DockerEngine
from runner.providers.local import Tail

ARGUMENT_LIMIT = 96 * 1024
# read the script from the file on stdin, so the file can go before anything else runs
FROM_FILE = 'exec < "$0" && rm -f -- "$0" && exec bash -s'


@dataclass(frozen=True)
class ScriptRun:
    output: str  # stdout and stderr together (the tail, when there was more than `limit`)
    stopped: str | None  # None: it ended; else "watchdog", "deadline" or "cancelled"
    exit_code: int | None
    seconds: float


def run_script(engine: DockerEngine, container: str, script: str, call: Call, *,
               watchdog: float, limit: int) -> ScriptRun:
    """Run `script` with bash as root in `container`; wait at most `watchdog` seconds."""
    argv = ["bash", "-c", script]
    if len(script.encode()) > ARGUMENT_LIMIT:
        name = f"taskform-grade-{uuid.uuid4().hex}.sh"
        engine.put_file(container, "/tmp", name, script.encode())
        argv = ["bash", "-c", FROM_FILE, f"/tmp/{name}"]
    started = time.monotonic()
    exec_id, stream = engine.exec_start(container, argv, user="0", workdir="/")
    tail = Tail(limit)
    stopped = _collect(call, stream, tail, started + watchdog)
    seconds = time.monotonic() - started
    if stopped is not None:
        engine.kill_exec(exec_id)
        return ScriptRun(tail.text(), stopped, None, seconds)
    return ScriptRun(tail.text(), None, engine.exec_exit_code(exec_id), seconds)


def _collect(call: Call, stream: Any, tail: Tail, watchdog_at: float) -> str | None:
    """Read the exec's output until it ends; or return what made us stop waiting."""
    chunks: queue.Queue[bytes | None] = queue.Queue()

    def read() -> None:
        try:
            for chunk in stream:
                chunks.put(chunk)
        except Exception:  # noqa: BLE001 - the connection dies when the container is removed
            pass
        finally:
            chunks.put(None)

    threading.Thread(target=read, daemon=True, name="grading-exec").start()
    while True:
        if call.cancelled.is_set():
            return "cancelled"
        now = time.monotonic()
        if now > watchdog_at:
            return "watchdog"
        if call.deadline is not None and now > call.deadline:
            return "deadline"
        try:
            item = chunks.get(timeout=0.05)
        except queue.Empty:
            continue
        if item is None:
            return None
        tail.add(item)
