"""Grading records committed through the real state API (any backend), shaped exactly as
docs/grading.md says `rubric_shell` and `rubric_set` records are."""

from __future__ import annotations

import textwrap
from typing import Any

from runner.rubric.evidence.model import Outcome, TestResult
from runner.rubric.model import Rubric
from runner.rubric.outcome import GradingOutcome
from runner.rubric.parse import parse_rubric
from runner.rubric.results import grading_outputs, parent_outputs
from runner.rubric.score import ValidateSettings
from runner.rubric.status import Status
from runner.state.base import Event, Record

RUBRIC = parse_rubric(textwrap.dedent("""
    ### #1: compound-units
    **Score**: 3
    **Required**: true
    **Criterion**: Parses compound durations such as 1h30m.
    **Held-out tests**: `python3 -m unittest tests.test_held_out.Compound`

    ### crit-02: rejects-garbage
    **Score**: 2
    **Required**: true
    **Criterion**: Raises ValueError on garbage.
    **Held-out tests**: `python3 -m unittest tests.test_held_out.Garbage`

    ### crit-03: whitespace
    **Score**: 1.5
    **Criterion**: Tolerates spaces.
    **Held-out tests**: `python3 -m unittest tests.test_held_out.Space`
    """), "TASK_DATA.md")

CODES = {"P": Status.PASS, "F": Status.FAIL, "T": Status.TIMEOUT, "E": Status.ERROR}
REASONS = {"P": "exit code 0", "F": "exit code 1", "T": "timed out after 45s (exit code 124)",
           "E": "solution modifies held-out tests: tests/test_held_out.py"}
EXITS = {"P": 0, "F": 1, "T": 124, "E": None}
TS = "2025-06-01T12:00:00.000Z"


def outcome(code: str, output: str, seconds: float, test: str = "") -> GradingOutcome:
    """A recorded run; a FAIL carries its failing test, as the results decide it."""
    tests = (TestResult(f"tests.test_held_out.{test}.test_it", Outcome.FAILED,
                        f"Traceback (most recent call last):\n  File \"x.py\", line 3\n"
                        f"AssertionError: {test} is not right"),) if code == "F" else ()
    return GradingOutcome(CODES[code], REASONS[code], exit_code=EXITS[code], output=output,
                          output_bytes=len(output.encode()), seconds=seconds,
                          timings={"reset": 0.01, "patch": 0.0, "tests_patch": 0.0,
                                   "run": seconds, "total": seconds + 0.02},
                          evidence="results" if tests else "markers", tests=tests)


def commit(state: Any, record: Record) -> None:
    state.commit(record, Event(run_id="r-test", event="done", address=record.address))


def child(parent: str, criterion: str, solution: str) -> str:
    if parent.endswith("]"):  # a rubric step inside an expansion: its key grows
        return f'{parent[:-1]},"{criterion}","{solution}"]'
    return f'{parent}["{criterion}","{solution}"]'


def commit_grading(state: Any, parent: str, table: dict[str, str], *,
                   rubric: Rubric = RUBRIC, validate: ValidateSettings | None = None,
                   with_parent: bool = True, repeats: dict[str, str] | None = None) -> None:
    """`table` maps a solution to one status code per criterion (P, F, T, E, or - for none);
    `repeats` maps a criterion to the golden's repeated codes (e.g. "PFP")."""
    for solution, codes in table.items():
        for n, (criterion, code) in enumerate(zip(rubric.criteria, codes, strict=True)):
            if code == "-":
                continue
            seconds = 0.25 * (n + 1)
            codes_run = (repeats or {}).get(criterion.id, code) if solution == "golden" else code
            runs = [outcome(c, f"output of {criterion.id} for {solution}\n", seconds,
                            criterion.id.title().replace("-", "")) for c in codes_run]
            outputs = grading_outputs(runs, criterion=criterion, solution=solution,
                                      cache_key=f"{n}{solution}".ljust(64, "0"), started_at=TS,
                                      finished_at=TS)
            commit(state, Record(address=child(parent, criterion.id, solution),
                                 kind="rubric_shell", status="ok", fingerprint={"x": "1"},
                                 settings={}, outputs=outputs, parent=parent, run_id="r-test",
                                 created_at=TS, updated_at=TS))
    if with_parent:
        commit(state, Record(address=parent, kind="rubric_set", status="ok", fingerprint={},
                             settings={}, outputs=parent_outputs(rubric, list(table), validate,
                                                                 [], None),
                             run_id="r-test", created_at=TS, updated_at=TS))


def commit_failed_child(state: Any, parent: str, criterion: str, solution: str,
                        error: str, output: str | None = None) -> None:
    """What apply records for a child whose every attempt failed (no prior record)."""
    commit(state, Record(address=child(parent, criterion, solution), kind="rubric_shell",
                         status="failed", fingerprint={}, settings=None, outputs={},
                         error=error, output=output, run_id="r-test", created_at=TS,
                         updated_at=TS))
