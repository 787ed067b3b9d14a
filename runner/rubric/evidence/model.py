"""The values the evidence layer passes around: one test's result, and what a criterion's
command is expected to prove."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class TestResult:
    """One test as its runner reported it. `id` is the runner's own name for it (a unittest
    id, a pytest node id, a Go test name); `message` the first lines of why it failed."""

    __test__ = False  # a value, not a test class (pytest collects `Test*` names)

    id: str
    outcome: Outcome
    message: str = ""
    seconds: float = 0.0
    suite: str = ""  # the Go package, the results file of a JUnit report

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "outcome": str(self.outcome), "message": self.message,
                "seconds": self.seconds}


_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Failure|Exit|Interrupt)\b")


def headline(message: str) -> str:
    """The line of a failure that says what went wrong: pytest's first `E ` line (`assert -1
    == 5`), else a traceback's last exception line (`AssertionError: '5400s' != '1h30m'`, not
    the diff unittest prints under it), else its last line."""
    lines = [line.rstrip() for line in message.strip().splitlines() if line.strip()]
    explained = [line[1:].strip() for line in lines if line.startswith("E ")]
    if explained:
        return explained[0]
    raised = [line for line in lines if _EXCEPTION.match(line)]
    return raised[-1] if raised else (lines[-1] if lines else "")


@dataclass(frozen=True)
class Invocation:
    """One run of a known test runner found in a command: the tests it names (empty: what it
    discovers) and whether those names are all it runs (`-k` patterns make them open)."""

    runner: str  # unittest | pytest | go | node
    names: tuple[str, ...] = ()
    exact: bool = True


@dataclass(frozen=True)
class Expectation:
    """What a command's evidence must show. `required`: results must exist (a known runner was
    found, or the step declared a results format); else the exit code and markers decide, and
    results that appear anyway can only make it fail."""

    invocations: tuple[Invocation, ...] = ()
    declared: str | None = None  # a results format the command writes itself (junit, go-json)

    @property
    def required(self) -> bool:
        return bool(self.invocations) or self.declared is not None
