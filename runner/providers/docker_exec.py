"""Run a command in a running container (docker exec through the API): stream its output,
keep a tail, and stop it at the step's deadline or on cancellation.

The deadline is enforced inside the container with coreutils `timeout -k` (the whole process
tree it started dies), and on the host by no longer waiting for a command that outlives it."""

from __future__ import annotations

import math
import os
import queue
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from runner.errors import Cancelled, StepTimeout
from runner.kinds.base import Context
from runner.providers.docker import LOCAL_SOCKET, api_errors, engine
from runner.providers.local import _Tail

KILL_GRACE_SECONDS = 2
HOST_GRACE_SECONDS = 5.0
TIMEOUT_EXIT_CODES = (124, 137)  # timeout's own code; SIGKILL after the grace


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    output: str
    seconds: float


def run_in_container(ctx: Context, container_id: str, argv: list[str], *,
                     workdir: str | None = None, user: str | None = None,
                     env: dict[str, str] | None = None, limit: int = 64 * 1024) -> ExecResult:
    """Run argv in the container; raise StepTimeout past ctx.deadline, Cancelled on cancel."""
    remaining = ctx.remaining()
    wrapped = argv if remaining is None else \
        ["timeout", "-k", str(KILL_GRACE_SECONDS), str(max(1, math.ceil(remaining))), *argv]
    api = engine(ctx).client.api
    started = time.monotonic()
    with api_errors(f"exec in container {container_id[:12]}"):
        exec_id = api.exec_create(container_id, wrapped, workdir=workdir, user=user or "",
                                  environment=env or None)["Id"]
        stream = api.exec_start(exec_id, stream=True, demux=True)
    tail = _Tail(limit)
    finished = _pump(ctx, stream, tail)
    if not finished:
        kill_exec(ctx, api, exec_id)
        if ctx.cancelled.is_set():
            raise Cancelled(str(ctx.address))
        raise StepTimeout(f"timed out after {time.monotonic() - started:.1f}s", output=tail.text())
    with api_errors(f"inspect exec in container {container_id[:12]}"):
        code = api.exec_inspect(exec_id).get("ExitCode")
    seconds = time.monotonic() - started
    if remaining is not None and code in TIMEOUT_EXIT_CODES and seconds >= remaining - 0.5:
        raise StepTimeout(f"timed out after {seconds:.1f}s; `timeout -k` killed the command "
                          "inside the container", output=tail.text())
    return ExecResult(exit_code=int(code if code is not None else -1), output=tail.text(),
                      seconds=seconds)


def _pump(ctx: Context, stream: Any, tail: _Tail) -> bool:
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
        if ctx.cancelled.is_set():
            return False
        if ctx.deadline is not None and time.monotonic() > ctx.deadline + HOST_GRACE_SECONDS:
            return False
        try:
            item = chunks.get(timeout=0.1)
        except queue.Empty:
            continue
        if item is None:
            if partial:
                ctx.log(partial.decode("utf-8", "replace"))
            return True
        for chunk in item:
            if chunk:
                tail.add(chunk)
                lines = (partial + chunk).split(b"\n")
                partial = lines.pop()
                for line in lines:
                    ctx.log(line.decode("utf-8", "replace"))


def kill_exec(ctx: Context, api: Any, exec_id: str) -> None:
    """Best effort: a local engine's exec process can be killed from the host (in-container
    `timeout -k` or discarding the container is what really ends it)."""
    import docker
    import requests

    if engine(ctx).address != LOCAL_SOCKET:
        return
    try:
        pid = api.exec_inspect(exec_id).get("Pid")
        if pid:
            os.kill(int(pid), signal.SIGKILL)
    except (ProcessLookupError, PermissionError, docker.errors.APIError,
            requests.RequestException):
        pass  # it ended by itself meanwhile, or is not ours to signal
