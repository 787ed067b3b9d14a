"""The status a grading's evidence proves. Failures are believed as they are (tampering makes
tests pass, never fail); a pass needs results that exist, name every test the command names,
show each of them passed, and show the canary failed with its nonce.

In order: results unreadable or missing (when required) -> FAIL; a test failed -> FAIL; a
named test did not run, or was skipped -> FAIL; no test ran -> FAIL; the canary passed, is
missing or lost its nonce -> ERROR (`test framework tampered with`); a run of a known runner
left no results -> FAIL; then the exit code."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from runner.rubric.evidence.gotest import parse_go_json
from runner.rubric.evidence.harness import Canary
from runner.rubric.evidence.junit import ResultsError, parse_junit
from runner.rubric.evidence.model import Expectation, Outcome, TestResult, headline
from runner.rubric.status import Status

TAMPERED = "test framework tampered with"
NO_RESULTS = "no test results: the process ended before the tests ran"
SHOWN_FAILURES = 3  # failing tests named in a reason
# the results files taskform's unittest runner and pytest plugin write: each holds a canary
CANARY_FILES = re.compile(r"^(unittest|pytest)-\d+-")


@dataclass(frozen=True)
class Evidence:
    """What the results say. `status` None: they decide nothing (markers mode, no results)."""

    status: Status | None
    reason: str
    tests: tuple[TestResult, ...] = ()
    files: tuple[str, ...] = field(default=())


def parse_files(files: Mapping[str, bytes]) -> tuple[list[TestResult], list[str]]:
    """Every result of every file, and the files that could not be read (with why)."""
    results: list[TestResult] = []
    problems = []
    for name, data in sorted(files.items()):
        parse: Callable[[bytes, str], list[TestResult]] = \
            parse_go_json if name.endswith((".json", ".jsonl")) else parse_junit
        try:
            results.extend(parse(data, name))
        except ResultsError as exc:
            problems.append(f"{name}: {exc}")
    return results, problems


def decide(expectation: Expectation, files: Mapping[str, bytes], refused: Mapping[str, str],
           canary: Canary | None, exit_code: int | None) -> Evidence:
    """The evidence's verdict for a command that ended with `exit_code`. `refused`: results
    files the grading script would not read (links, too large), with why."""
    files = {name: data for name, data in files.items() if data}  # made, never written
    results, problems = parse_files(files)
    problems += [f"{name}: {why}" for name, why in refused.items()]
    shown = tuple(r for r in results if not _is_canary(r, canary))
    names = tuple(sorted(files))
    if problems:
        return Evidence(Status.FAIL, "test results unreadable: " + "; ".join(problems), shown,
                        names)
    if not files:
        if not expectation.required:
            return Evidence(None, "")
        return Evidence(Status.FAIL, f"{NO_RESULTS} ({_exit(exit_code)})", (), names)
    for check in (_failures, _named, _ran, _canary, _each_run):
        found = check(expectation, files, results, shown, canary)
        if found is not None:
            return Evidence(found[0], found[1], shown, names)
    if exit_code != 0:
        return Evidence(Status.FAIL, f"{_exit(exit_code)}, though every test passed", shown,
                        names)
    return Evidence(Status.PASS, f"{len(shown)} test{'s' if len(shown) != 1 else ''} passed",
                    shown, names)


Found = tuple[Status, str] | None


def _failures(expectation: Expectation, files: Mapping[str, bytes], results: list[TestResult],
              shown: tuple[TestResult, ...], canary: Canary | None) -> Found:
    failed = [r for r in shown if r.outcome in (Outcome.FAILED, Outcome.ERROR)]
    if not failed:
        return None
    listed = ", ".join(r.id for r in failed[:SHOWN_FAILURES])
    more = f" and {len(failed) - SHOWN_FAILURES} more" if len(failed) > SHOWN_FAILURES else ""
    first = headline(failed[0].message) or str(failed[0].outcome)
    return Status.FAIL, f"{len(failed)} of {len(shown)} tests failed: {listed}{more} ({first})"


def _named(expectation: Expectation, files: Mapping[str, bytes], results: list[TestResult],
           shown: tuple[TestResult, ...], canary: Canary | None) -> Found:
    for invocation in expectation.invocations:
        if not invocation.exact:
            continue
        for name in invocation.names:
            matched = [r for r in shown if matches(invocation.runner, name, r.id)]
            if not matched:
                return Status.FAIL, f"test {name} did not run"
            skipped = [r for r in matched if r.outcome is Outcome.SKIPPED]
            if skipped:
                return Status.FAIL, f"test {skipped[0].id} was skipped: every named test must " \
                                    "run and pass"
    return None


def _ran(expectation: Expectation, files: Mapping[str, bytes], results: list[TestResult],
         shown: tuple[TestResult, ...], canary: Canary | None) -> Found:
    passed = [r for r in shown if r.outcome is Outcome.PASSED]
    if not passed:
        return Status.FAIL, "no test ran and passed" if not shown else \
            f"no test passed: {shown[0].id} was {shown[0].outcome}"
    return None


def _canary(expectation: Expectation, files: Mapping[str, bytes], results: list[TestResult],
            shown: tuple[TestResult, ...], canary: Canary | None) -> Found:
    if canary is None:
        return None
    for name in files:
        if not CANARY_FILES.match(name):
            continue
        found = [r for r in results if r.suite == name and _is_canary(r, canary)]
        if not found:
            return Status.ERROR, f"{TAMPERED}: the canary test is missing from {name}"
        if found[0].outcome is Outcome.PASSED:
            return Status.ERROR, f"{TAMPERED}: the canary test passed"
        if canary.nonce not in found[0].message:
            return Status.ERROR, f"{TAMPERED}: the canary test failed without its nonce"
    return None


def _each_run(expectation: Expectation, files: Mapping[str, bytes], results: list[TestResult],
              shown: tuple[TestResult, ...], canary: Canary | None) -> Found:
    for runner in {i.runner for i in expectation.invocations}:
        runs = sum(1 for i in expectation.invocations if i.runner == runner)
        written = sum(1 for name in files if name.startswith(f"{runner}-"))
        if written < runs:
            return Status.FAIL, f"{NO_RESULTS}: {runs - written} of {runs} {runner} runs " \
                                "wrote none"
    return None


def matches(runner: str, name: str, test_id: str) -> bool:
    """Whether a result belongs to a test the command named, in the runner's own terms."""
    if test_id == name:
        return True
    if runner == "unittest":
        return test_id.startswith(name + ".")
    if runner == "pytest":
        base = name.rstrip("/")
        return test_id.startswith((base + "::", base + "[", base + "/"))
    if runner == "go":
        return test_id.startswith(name + "/")
    return False


def _is_canary(result: TestResult, canary: Canary | None) -> bool:
    return canary is not None and canary.name in result.id


def _exit(code: int | None) -> str:
    return "no exit code" if code is None else f"exit code {code}"
