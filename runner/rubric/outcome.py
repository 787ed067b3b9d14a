"""Reading a grading script's output back: its report line, then the status of the grading."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runner.rubric.script import PHASES, TRAILER, GradingJob
from runner.rubric.status import NO_MARKERS, Markers, Status, cap_output, classify

PHASE_ERRORS = {
    "reset": "resetting the repository to pristine failed",
    "setup": "a setup command failed",
    "patch": "patch does not apply",
    "tests_patch": "held-out tests patch does not apply",
}
SLACK_BYTES = 256  # the script's own note when it cuts output


@dataclass(frozen=True)
class ScriptReport:
    """The script's last line, parsed, and everything it printed before it."""

    phase: str
    exit_code: int | None
    output_bytes: int
    timings: dict[str, float]  # seconds per phase, and `total`
    tree: str | None
    output: str


def parse_report(stdout: str) -> ScriptReport | None:
    """The report of a grading script's output; None when the script never got to write it."""
    body, _, last = stdout.rstrip("\n").rpartition("\n")
    if not last.startswith(TRAILER):
        return None
    fields = dict(part.partition("=")[::2] for part in last[len(TRAILER):].split())
    timings = {}
    for item in fields.get("ms", "").split(","):
        name, _, value = item.partition(":")
        if name and value.isdigit():
            timings[name] = int(value) / 1000
    exit_text = fields.get("exit", "")
    return ScriptReport(phase=fields.get("phase", ""),
                        exit_code=int(exit_text) if exit_text.lstrip("-").isdigit() else None,
                        output_bytes=int(fields.get("bytes", "0") or 0), timings=timings,
                        tree=None if fields.get("tree") in (None, "-") else fields["tree"],
                        output=body)


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

    def to_outputs(self) -> dict[str, Any]:
        return {"status": str(self.status), "reason": self.reason, "exit_code": self.exit_code,
                "output": self.output, "output_truncated": self.output_truncated,
                "output_bytes": self.output_bytes, "seconds": self.seconds,
                "timings": dict(self.timings), "tree": self.tree}


def refused(message: str) -> GradingOutcome:
    """An ERROR decided before running anything (e.g. the solution touches held-out tests)."""
    return GradingOutcome(Status.ERROR, message, output=message, output_bytes=len(message))


def interpret(stdout: str, job: GradingJob, *, markers: Markers = NO_MARKERS,
              timed_out: bool = False, host_seconds: float = 0.0) -> GradingOutcome:
    """The outcome of one run of `grading_script(job)`; `timed_out` means the host watchdog
    had to stop it."""
    report = parse_report(stdout)
    if report is None:
        capped = cap_output(stdout, job.output_limit)
        if timed_out:
            return GradingOutcome(Status.TIMEOUT, f"the host watchdog stopped the grading after "
                                  f"{host_seconds:.1f}s", output=capped.text,
                                  output_truncated=capped.truncated,
                                  output_bytes=capped.total_bytes, seconds=host_seconds)
        return GradingOutcome(Status.ERROR, "the grading script ended without a report",
                              output=capped.text, output_truncated=capped.truncated,
                              output_bytes=capped.total_bytes)
    if report.phase != "run":
        return _phase_error(report, job)
    capped = cap_output(report.output, job.output_limit + SLACK_BYTES)
    elapsed = report.timings.get("run", 0.0)
    verdict = classify(report.exit_code, capped.text, timed_out=timed_out, elapsed=elapsed,
                       timeout=job.timeout, markers=markers)
    return GradingOutcome(verdict.status, verdict.reason, exit_code=report.exit_code,
                          output=capped.text,
                          output_truncated=report.output_bytes > job.output_limit
                          or capped.truncated,
                          output_bytes=max(report.output_bytes, capped.total_bytes),
                          seconds=elapsed, timings=report.timings, tree=report.tree)


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
