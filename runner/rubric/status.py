"""How one grading ends: PASS / FAIL by exit code (and by markers where the workspace sets
them, the last occurrence winning, never a pass on a non-zero exit), TIMEOUT, or ERROR for
infrastructure. Plus the output cap."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

TIMEOUT_EXIT = 124  # coreutils `timeout`: the command ran past its limit
SIGNAL_EXITS = {137: "SIGKILL", 143: "SIGTERM"}  # 128 + signal


class Status(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    TIMEOUT = "TIMEOUT"
    ERROR = "ERROR"

    @property
    def is_pass(self) -> bool:
        return self is Status.PASS


@dataclass(frozen=True)
class Markers:
    """task-sync's PASS_MARKER / FAIL_MARKER / TIMEOUT_MARKER; None or "" never matches."""

    pass_marker: str | None = None
    fail_marker: str | None = None
    timeout_marker: str | None = None

    def last(self, output: str) -> tuple[Status, str] | None:
        """The marker that occurs last in `output` (its status and text), if any."""
        found = [(output.rfind(marker), status, marker) for status, marker in (
            (Status.PASS, self.pass_marker), (Status.FAIL, self.fail_marker),
            (Status.TIMEOUT, self.timeout_marker)) if marker]
        found = [f for f in found if f[0] >= 0]
        if not found:
            return None
        # the occurrence that ends last; on a tie the longer marker ("NOT OK" over "OK")
        _, status, marker = max(found, key=lambda f: (f[0] + len(f[2]), len(f[2])))
        return status, marker


NO_MARKERS = Markers()


@dataclass(frozen=True)
class Classified:
    status: Status
    reason: str  # why, in words: "exit code 1", "timed out after 45s", ...


def classify(exit_code: int | None, output: str, *, timed_out: bool, elapsed: float,
             timeout: float, markers: Markers = NO_MARKERS) -> Classified:
    """Decide one grading's status from how its command ended."""
    if timed_out:
        return Classified(Status.TIMEOUT, f"timed out after {timeout:g}s; its processes were "
                                          "killed")
    if exit_code is None:
        return Classified(Status.ERROR, "the command did not report an exit code")
    if exit_code == TIMEOUT_EXIT:
        return Classified(Status.TIMEOUT, f"timed out after {timeout:g}s (exit code 124)")
    if exit_code in SIGNAL_EXITS and elapsed >= timeout:
        return Classified(Status.TIMEOUT, f"timed out after {timeout:g}s (killed by "
                                          f"{SIGNAL_EXITS[exit_code]})")
    return _by_markers(exit_code, output, markers)


def _by_markers(exit_code: int, output: str, markers: Markers) -> Classified:
    code = _describe_exit(exit_code)
    last = markers.last(output)
    if last is not None:
        status, marker = last
        if status is Status.PASS and exit_code != 0:
            return Classified(Status.FAIL, f"printed the pass marker {marker} but {code}")
        return Classified(status, f"last marker {marker}; {code}")
    if markers.pass_marker and exit_code == 0:
        # the rubric promises a pass marker: a clean exit without one proves nothing
        return Classified(Status.FAIL, f"{code}, but the pass marker {markers.pass_marker} "
                                       "was not printed")
    return Classified(Status.PASS if exit_code == 0 else Status.FAIL, code)


def _describe_exit(exit_code: int) -> str:
    if exit_code in SIGNAL_EXITS:
        return f"killed by {SIGNAL_EXITS[exit_code]} before the deadline (exit code {exit_code})"
    return f"exit code {exit_code}"


@dataclass(frozen=True)
class CappedOutput:
    text: str
    truncated: bool
    total_bytes: int


def cap_output(data: bytes | str, limit: int) -> CappedOutput:
    """Keep at most `limit` bytes: the first quarter and the last three quarters (where test
    summaries are), with a note saying how much was cut."""
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    if len(raw) <= limit:
        return CappedOutput(raw.decode("utf-8", "replace"), False, len(raw))
    head = limit // 4
    tail = limit - head
    cut = len(raw) - head - tail
    text = (raw[:head].decode("utf-8", "ignore")
            + f"\n[... taskform: {cut} bytes of output cut (limit {limit} bytes) ...]\n"
            + raw[len(raw) - tail:].decode("utf-8", "ignore"))
    return CappedOutput(text, True, len(raw))
