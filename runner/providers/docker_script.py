"""Run one generated script as root in a running container, in one exec, with a host-side
watchdog: the host stops waiting at the watchdog, the step's deadline or a cancellation, and
says which one fired (the caller then discards the container: whatever ran in it is unknown).

The script travels as the argument of `bash -c`; one too large for an argument (the kernel
caps a single one at 128 KiB) is copied in first as a root-only file that removes itself."""

from __future__ import annotations

import io
import queue
import tarfile
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from runner.kinds.base import Context
from runner.providers.docker import api_errors, engine
from runner.providers.docker_exec import kill_exec
from runner.providers.local import _Tail

ARGUMENT_LIMIT = 96 * 1024
# read the script from the file on stdin, so the file can go before anything else runs
FROM_FILE = 'exec < "$0" && rm -f -- "$0" && exec bash -s'


@dataclass(frozen=True)
class ScriptRun:
    output: str  # stdout and stderr together (the tail, when there was more than `limit`)
    stopped: str | None  # None: it ended; else "watchdog", "deadline" or "cancelled"
    exit_code: int | None
    seconds: float


def run_script(ctx: Context, container: str, script: str, *, watchdog: float,
               limit: int) -> ScriptRun:
    """Run `script` with bash as root in `container`; wait at most `watchdog` seconds."""
    api = engine(ctx).client.api
    argv = ["bash", "-c", script] if len(script.encode()) <= ARGUMENT_LIMIT \
        else ["bash", "-c", FROM_FILE, _copy_in(api, container, script)]
    started = time.monotonic()
    with api_errors(f"exec in container {container}"):
        exec_id = api.exec_create(container, argv, user="0", workdir="/")["Id"]
        stream = api.exec_start(exec_id, stream=True)
    tail = _Tail(limit)
    stopped = _collect(ctx, stream, tail, started + watchdog)
    seconds = time.monotonic() - started
    if stopped is not None:
        kill_exec(ctx, api, exec_id)
        return ScriptRun(tail.text(), stopped, None, seconds)
    with api_errors(f"inspect exec in container {container}"):
        code = api.exec_inspect(exec_id).get("ExitCode")
    return ScriptRun(tail.text(), None, code, seconds)


def _copy_in(api: Any, container: str, script: str) -> str:
    """The script as /tmp/taskform-grade-<random>.sh, owned by root, mode 0600."""
    name = f"taskform-grade-{uuid.uuid4().hex}.sh"
    data = script.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.uid, info.gid = len(data), 0o600, 0, 0
        archive.addfile(info, io.BytesIO(data))
    with api_errors(f"copy the grading script into container {container}"):
        api.put_archive(container, "/tmp", buffer.getvalue())
    return f"/tmp/{name}"


def _collect(ctx: Context, stream: Any, tail: _Tail, watchdog_at: float) -> str | None:
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
        if ctx.cancelled.is_set():
            return "cancelled"
        now = time.monotonic()
        if now > watchdog_at:
            return "watchdog"
        if ctx.deadline is not None and now > ctx.deadline:
            return "deadline"
        try:
            item = chunks.get(timeout=0.05)
        except queue.Empty:
            continue
        if item is None:
            return None
        tail.add(item)
