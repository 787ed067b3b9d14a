"""Reading a grading script's output back (the protocol `script_body.py` describes): its
report, the command's output and results files, then the status of the grading."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from runner.rubric.evidence.harness import Canary
from runner.rubric.evidence.model import Expectation, TestResult
from runner.rubric.evidence.verdict import decide
from runner.rubric.script import PHASES, RUN_MARKER, TRAILER, GradingJob
from runner.rubric.status import NO_MARKERS, Markers, Status, cap_output, classify

PHASE_ERRORS = {
    "reset": "resetting the repository to pristine failed",
    "setup": "a setup command failed",
    "patch": "patch does not apply",
    "tests_patch": "held-out tests patch does not apply",
}
SLACK_BYTES = 256  # the script's own note when it cuts output
TESTS_KEPT = 500  # results per grading kept in its record
_MARKER = RUN_MARKER.encode() + b"\n"
_TAIL = b"\n::taskform-tail:: "
_RESULTS = b"\n::taskform-results:: "


@dataclass(frozen=True)
class ScriptReport:
    """The script's report line, parsed, and what it printed before it: the phase's message,
    or (phase `run`) the command's output and its results files."""

    phase: str
    exit_code: int | None
    output_bytes: int
    timings: dict[str, float]  # seconds per phase, and `total`
    tree: str | None
    output: str
    results: dict[str, bytes] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # results files it would not read


def parse_report(raw: bytes | str) -> ScriptReport | None:
    """The report of a grading script's output; None when it never got to write one, or what
    it wrote does not follow the protocol."""
    data = raw.encode() if isinstance(raw, str) else raw
    body, _, last = data.rstrip(b"\n").rpartition(b"\n")
    if not last.startswith(TRAILER.encode()):
        return None
    fields = dict(part.partition("=")[::2]
                  for part in last[len(TRAILER):].decode("utf-8", "replace").split())
    phase = fields.get("phase", "")
    report = ScriptReport(phase=phase, exit_code=_int(fields.get("exit")),
                          output_bytes=_int(fields.get("bytes")) or 0, timings=_ms(fields),
                          tree=None if fields.get("tree") in (None, "-") else fields["tree"],
                          output=body.decode("utf-8", "replace"))
    if phase != "run":
        return report
    return _run_sections(report, body, _int(fields.get("head")) or 0)


def _run_sections(report: ScriptReport, body: bytes, head_bytes: int) -> ScriptReport | None:
    start = body.find(_MARKER)
    if start < 0 or (start > 0 and body[start - 1:start] != b"\n"):
        return None
    after = body[start + len(_MARKER):]
    head, post = after[:head_bytes], after[head_bytes:]
    header, rest = _section(post, _TAIL)
    if header is None:
        return None
    size = _int(header.get("bytes")) or 0
    tail, rest = rest[:size], rest[size:]
    cut = _int(header.get("cut")) or 0
    limit = header.get("limit", "?")
    note = f"\n[... taskform: {cut} bytes of output cut (limit {limit} bytes) ...]\n".encode() \
        if cut else b""
    results, refused = {}, {}
    while rest:
        header, rest = _section(rest, _RESULTS)
        if header is None:
            return None
        size = _int(header.get("bytes")) or 0
        name, encoded, rest = header.get("name", "?"), rest[:size], rest[size:]
        if header.get("refused"):
            refused[name] = header["refused"].replace("-", " ")
            continue
        try:
            results[name] = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            refused[name] = "not base64"
    output = (head + note + tail).decode("utf-8", "replace")
    return ScriptReport(report.phase, report.exit_code, report.output_bytes, report.timings,
                        report.tree, output, results, refused)


def _section(data: bytes, prefix: bytes) -> tuple[dict[str, str] | None, bytes]:
    if not data.startswith(prefix):
        return None, data
    line, _, rest = data[len(prefix):].partition(b"\n")
    fields = dict(p.partition("=")[::2] for p in line.decode("utf-8", "replace").split())
    return fields, rest


def run_output(raw: bytes) -> str:
    """What the command printed before the host had to stop it (its first part, streamed)."""
    start = raw.find(_MARKER)
    return "" if start < 0 else raw[start + len(_MARKER):].decode("utf-8", "replace")


def _int(text: str | None) -> int | None:
    return int(text) if text and text.lstrip("-").isdigit() else None


def _ms(fields: dict[str, str]) -> dict[str, float]:
    timings = {}
    for item in fields.get("ms", "").split(","):
        name, _, value = item.partition(":")
        if name and value.isdigit():
            timings[name] = int(value) / 1000
    return timings


@dataclass(frozen=True)
class GradingOutcome:
    """How one grading ended: what `rubric_shell` records (see docs/grading.md)."""

    status: Status
    reason: str
    exit_code: int | None = None
    output: str = ""
    output_truncated: bool = False
    output_bytes: int = 0
    seconds: float = 0.0  # the command's own run time
    timings: dict[str, float] = field(default_factory=dict)
    tree: str | None = None
    evidence: str = "markers"  # results: decided by test results; markers: by exit code
    tests: tuple[TestResult, ...] = ()

    def to_outputs(self) -> dict[str, Any]:
        return {"status": str(self.status), "reason": self.reason, "exit_code": self.exit_code,
                "output": self.output, "output_truncated": self.output_truncated,
                "output_bytes": self.output_bytes, "seconds": self.seconds,
                "timings": dict(self.timings), "tree": self.tree, "evidence": self.evidence,
                "tests": [t.to_dict() for t in self.tests[:TESTS_KEPT]]}


def refused(message: str) -> GradingOutcome:
    """An ERROR decided before running anything (e.g. the solution touches held-out tests)."""
    return GradingOutcome(Status.ERROR, message, output=message, output_bytes=len(message))


@dataclass(frozen=True)
class HostView:
    """How the host saw the script end: `stopped` by the host (`watchdog` before the command
    started, `killed` at the command's deadline), and how long the command ran as it saw it."""

    stopped: str | None = None
    seconds: float = 0.0
    run_seconds: float | None = None


ENDED = HostView()  # the script ended by itself
NOTHING_EXPECTED = Expectation()  # markers mode: exit code and markers decide


def interpret(raw: bytes | str, job: GradingJob, *, markers: Markers = NO_MARKERS,
              host: HostView = ENDED, expectation: Expectation = NOTHING_EXPECTED,
              canary: Canary | None = None) -> GradingOutcome:
    """The outcome of one run of `grading_script(job)`."""
    data = raw.encode() if isinstance(raw, str) else raw
    if host.stopped == "killed":
        return _killed(data, job, host)
    report = parse_report(data)
    if report is None:
        capped = cap_output(data, job.output_limit)
        if host.stopped == "watchdog":
            return GradingOutcome(Status.TIMEOUT, f"the host watchdog stopped the grading after "
                                  f"{host.seconds:.1f}s, before its command started",
                                  output=capped.text, output_truncated=capped.truncated,
                                  output_bytes=capped.total_bytes, seconds=host.seconds)
        return GradingOutcome(Status.ERROR, "the grading script ended without a report",
                              output=capped.text, output_truncated=capped.truncated,
                              output_bytes=capped.total_bytes)
    if report.phase != "run":
        return _phase_error(report, job)
    return _ran(report, job, markers, expectation, canary)


def _killed(data: bytes, job: GradingJob, host: HostView) -> GradingOutcome:
    capped = cap_output(run_output(data), job.output_limit)
    seconds = host.run_seconds if host.run_seconds is not None else host.seconds
    return GradingOutcome(Status.TIMEOUT, f"timed out after {job.timeout:g}s; the host killed "
                          "the container and everything in it", output=capped.text,
                          output_truncated=capped.truncated, output_bytes=capped.total_bytes,
                          seconds=seconds)


def _ran(report: ScriptReport, job: GradingJob, markers: Markers, expectation: Expectation,
         canary: Canary | None) -> GradingOutcome:
    capped = cap_output(report.output, job.output_limit + SLACK_BYTES)
    elapsed = report.timings.get("run", 0.0)
    verdict = classify(report.exit_code, capped.text, timed_out=False, elapsed=elapsed,
                       timeout=job.timeout, markers=markers)
    evidence = decide(expectation, report.results, report.refused, canary, report.exit_code)
    status, reason, mode = verdict.status, verdict.reason, "markers"
    if verdict.status is not Status.TIMEOUT and evidence.status is not None:
        status, reason, mode = evidence.status, evidence.reason, "results"
    return GradingOutcome(status, reason, exit_code=report.exit_code, output=capped.text,
                          output_truncated=report.output_bytes > job.output_limit
                          or capped.truncated,
                          output_bytes=max(report.output_bytes, capped.total_bytes),
                          seconds=elapsed, timings=report.timings, tree=report.tree,
                          evidence=mode, tests=evidence.tests)


def _phase_error(report: ScriptReport, job: GradingJob) -> GradingOutcome:
    what = PHASE_ERRORS.get(report.phase, f"the grading script failed in phase "
                                          f"{report.phase or '?'} (expected one of "
                                          f"{', '.join(PHASES)})")
    message = report.output.strip()
    first = message.splitlines()[0] if message else what
    reason = first if first.startswith(what) else f"{what}: {first}"
    capped = cap_output(message, job.output_limit)
    return GradingOutcome(Status.ERROR, reason, exit_code=report.exit_code, output=capped.text,
                          output_truncated=capped.truncated, output_bytes=capped.total_bytes,
                          timings=report.timings, tree=report.tree)
