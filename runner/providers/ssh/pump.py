"""Reading a remote command's output as it comes: tails of stdout and stderr, lines to the
call's log, and the process group id the command's wrapper writes first on stderr."""

from __future__ import annotations

import time
from typing import Any

from runner.providers.call import Call
from runner.providers.local import Tail

OUTPUT_LIMIT = 64 * 1024
PID_MARK = "taskform-pid "
CLOSE_GRACE_SECONDS = 2.0  # past the exit status, how long output may still come


class Pump:
    """Reads a channel's stdout and stderr as they come, keeping tails and logging lines; the
    first stderr line is the wrapper's process group id."""

    def __init__(self, call: Call):
        self.call, self.out, self.err = call, Tail(OUTPUT_LIMIT), Tail(OUTPUT_LIMIT)
        self.pid: int | None = None
        self._head: bytes | None = b""  # stderr until the wrapper's first line is seen
        self._lines = {"out": b"", "err": b""}

    def until_exit(self, channel: Any, deadline: float) -> bool:
        """Read until the command exits and its output has all come; True when the local
        deadline passed first.

        sshd sends the exit status as soon as it reaps the command, which can be before it has
        read the last of the output from its pipes (stderr's especially), so the exit status
        alone does not end the reading: the channel's close does, which sshd sends only once
        both pipes are at their end and drained. A command that left a child holding the pipes
        open would keep the channel open; CLOSE_GRACE_SECONDS after the exit status the reading
        ends anyway."""
        pause, exited_at = 0.005, None
        while True:
            moved = self._drain(channel)
            if exited_at is None and channel.exit_status_ready():
                exited_at = time.monotonic()
            if exited_at is not None and not channel.recv_ready() and \
                    not channel.recv_stderr_ready() and \
                    (channel.closed or time.monotonic() - exited_at >= CLOSE_GRACE_SECONDS):
                self._drain(channel)
                self._flush()
                return False
            if self.call.cancelled.is_set() or time.monotonic() >= deadline:
                self._flush()
                return not self.call.cancelled.is_set()
            pause = 0.005 if moved else min(pause * 2, 0.1)
            if exited_at is None:
                # wakes at once when the command exits; output arriving meanwhile waits `pause`
                channel.status_event.wait(pause)
            else:  # the event stays set once the status came: wait for the close by the clock
                time.sleep(0.002)

    def _drain(self, channel: Any) -> bool:
        moved = False
        while channel.recv_ready():
            self._take("out", channel.recv(32768))
            moved = True
        while channel.recv_stderr_ready():
            self._take("err", channel.recv_stderr(32768))
            moved = True
        return moved

    def _take(self, stream: str, data: bytes) -> None:
        if stream == "err" and self._head is not None:
            self._head += data
            line, sep, rest = self._head.partition(b"\n")
            if not sep:
                return
            self._head = None
            text = line.decode("utf-8", "replace")
            if text.startswith(PID_MARK) and text[len(PID_MARK):].isdigit():
                self.pid = int(text[len(PID_MARK):])
                data = rest
            else:
                data = line + sep + rest
        (self.out if stream == "out" else self.err).add(data)
        buffered = self._lines[stream] + data
        *complete, self._lines[stream] = buffered.split(b"\n")
        for line in complete:
            self.call.log(line.decode("utf-8", "replace"))

    def _flush(self) -> None:
        for stream, rest in self._lines.items():
            if rest:
                self.call.log(rest.decode("utf-8", "replace"))
                self._lines[stream] = b""
