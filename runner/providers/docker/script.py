"""Run one generated script as root in a running container, in one exec, and hold it to two
deadlines from the host: `watchdog` seconds for everything before the script prints its run
marker, and `run_limit` seconds from that marker on. At the run limit the container is killed
from the host (SIGKILL to every process in it, whatever they do), so a command that forks
without bound or ignores signals still ends on time; the caller then discards the container.

The script travels as the argument of `bash -c`; one too large for an argument (the kernel
caps a single one at 128 KiB) is copied in first as a root-only file that removes itself. A
container may have a `RECEIVER` started ahead (`OpenProcess`): the script is then sent to its
stdin, and the exec it would have started is already there. When that process is the
container's main process (`OpenProcess.is_main`), the container ends with the script: the
script's exit code is the container's, and whatever stops the script early stops the
container."""

from __future__ import annotations

import queue
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from runner.errors import StepFailed
from runner.providers.call import Call
from runner.providers.docker.engine import DockerEngine
from runner.providers.docker.open_exec import OpenProcess
from runner.providers.local import Tail

ARGUMENT_LIMIT = 96 * 1024
WAIT_SECONDS = 30.0  # for a container whose main process ended to be stopped
# read the script from the file on stdin, so the file can go before anything else runs
FROM_FILE = 'exec < "$0" && rm -f -- "$0" && exec bash -s'
# started ahead as root (`OpenProcess`): waits for a line saying how, then the script on its
# stdin; runs it as `bash -c` would, in the same bash (`eval`: no second bash to start), or one
# too large for an argument from a here-string, which bash keeps in a temp file (a sandbox's
# read-only root refuses files copied in). Reading it whole first keeps the script's own
# commands off the stream it came on.
RECEIVER = ["bash", "-c", 'read -r how && s=$(cat) && if [ "$how" = argument ]; then '
                          'unset how; eval "$s"; exit; else exec bash -s <<< "$s"; fi']


@dataclass(frozen=True)
class ScriptRun:
    raw: bytes  # stdout and stderr together (the last `limit` bytes)
    stopped: str | None  # None: it ended; else "watchdog", "killed", "deadline" or "cancelled"
    exit_code: int | None
    seconds: float
    run_seconds: float | None = None  # from the run marker to the end (or to the kill)

    @property
    def output(self) -> str:
        return self.raw.decode("utf-8", "replace")


@dataclass
class _Clock:
    watchdog_at: float
    run_limit: float | None
    marker: bytes
    run_started: float | None = None

    def deadline(self) -> float:
        if self.run_started is not None and self.run_limit is not None:
            return self.run_started + self.run_limit
        return self.watchdog_at


def run_script(engine: DockerEngine, container: str, script: str, call: Call, *,
               watchdog: float, limit: int, run_marker: bytes = b"",
               run_limit: float | None = None, receiver: OpenProcess | None = None,
               exit_code: bool = True) -> ScriptRun:
    """Run `script` with bash as root in `container`, under the two deadlines; through
    `receiver` (a `RECEIVER` started in it) when it has one. `exit_code`: ask the engine for
    the script's exit code (a request; a caller that reads its outcome from the output may
    go without)."""
    started = time.monotonic()
    clock = _Clock(started + watchdog, run_limit if run_marker else None, run_marker)
    data = script.encode()
    if receiver is not None:
        how = b"argument\n" if len(data) <= ARGUMENT_LIMIT else b"stdin\n"
        exec_id, stream = receiver.exec_id, receiver.feed(how + data)
    else:
        exec_id, stream = _exec(engine, container, data)
    tail = Tail(limit)
    chunks = _reader(stream)
    stopped = _collect(call, chunks, tail, clock)
    now = time.monotonic()
    if stopped == "killed" or (stopped is not None and exec_id is None):
        # the grading ends now: the kill (which waits for a fork bomb's every process) goes on
        # behind it, and the caller throws the container away in any case
        threading.Thread(target=_kill, args=(engine, container), daemon=True,
                         name="grading-kill").start()
        _drain(chunks, tail)
    elif stopped is not None and exec_id is not None:
        engine.kill_exec(exec_id)
    run_seconds = None if clock.run_started is None else now - clock.run_started
    code = None if stopped is not None or not exit_code else \
        exit_code_of(engine, container, exec_id)
    return ScriptRun(bytes(tail.data), stopped, code, now - started, run_seconds)


def exit_code_of(engine: DockerEngine, container: str, exec_id: str | None) -> int | None:
    """The script's exit code: its exec's, or (the container's main process) the container's,
    which stops with it: its output has ended, so the wait is short."""
    if exec_id is not None:
        return engine.exec_exit_code(exec_id)
    return engine.wait(container, timeout=WAIT_SECONDS)


def _exec(engine: DockerEngine, container: str, data: bytes) -> tuple[str, Any]:
    argv = ["bash", "-c", data.decode()]
    if len(data) > ARGUMENT_LIMIT:
        name = f"taskform-grade-{uuid.uuid4().hex}.sh"
        engine.put_file(container, "/tmp", name, data)
        argv = ["bash", "-c", FROM_FILE, f"/tmp/{name}"]
    return engine.exec_start(container, argv, user="0", workdir="/")


def _reader(stream: Any) -> queue.Queue[bytes | None]:
    chunks: queue.Queue[bytes | None] = queue.Queue()

    def read() -> None:
        try:
            for chunk in stream:
                chunks.put(chunk)
        except Exception:  # noqa: BLE001 - the connection dies when the container is killed
            pass
        finally:
            chunks.put(None)

    threading.Thread(target=read, daemon=True, name="grading-exec").start()
    return chunks


def _collect(call: Call, chunks: queue.Queue[bytes | None], tail: Tail,
             clock: _Clock) -> str | None:
    """Read the exec's output until it ends; or return what made us stop waiting."""
    while True:
        if call.cancelled.is_set():
            return "cancelled"
        now = time.monotonic()
        if now > clock.deadline():
            return "killed" if clock.run_started is not None else "watchdog"
        if call.deadline is not None and now > call.deadline:
            return "deadline"
        try:
            item = chunks.get(timeout=min(0.05, max(0.001, clock.deadline() - now)))
        except queue.Empty:
            continue
        if item is None:
            return None
        tail.add(item)
        if clock.marker and clock.run_started is None and clock.marker in tail.data:
            clock.run_started = time.monotonic()


def _kill(engine: DockerEngine, container: str) -> None:
    try:
        engine.kill_container(container)
    except StepFailed:
        pass  # gone already; the caller discards it either way


def _drain(chunks: queue.Queue[bytes | None], tail: Tail) -> None:
    """What the engine already delivered of a killed container's output."""
    while True:
        try:
            item = chunks.get_nowait()
        except queue.Empty:
            return
        if item is None:
            return
        tail.add(item)
