"""`go test -json`: one JSON event per line; a test's last `pass`, `fail` or `skip` is its
result, its `output` events its message. A package that fails without a test (it does not
build) is one failed result named after the package."""

from __future__ import annotations

import json
from typing import Any

from runner.rubric.evidence.junit import ResultsError, cap
from runner.rubric.evidence.model import Outcome, TestResult

_ACTIONS = {"pass": Outcome.PASSED, "fail": Outcome.FAILED, "skip": Outcome.SKIPPED}


def parse_go_json(data: bytes, suite: str = "") -> list[TestResult]:
    outputs: dict[tuple[str, str], list[str]] = {}
    ends: dict[tuple[str, str], tuple[Outcome, float]] = {}
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip().startswith("{"):
            continue  # go prints build errors as plain text too
        event = _event(line, number)
        key = (str(event.get("Package") or ""), str(event.get("Test") or ""))
        action = event.get("Action")
        if action == "output":
            outputs.setdefault(key, []).append(str(event.get("Output") or ""))
        elif action in _ACTIONS:
            ends[key] = (_ACTIONS[str(action)], float(event.get("Elapsed") or 0))
    results = []
    for (package, test), (outcome, seconds) in ends.items():
        if not test and outcome is Outcome.PASSED:
            continue  # a package that passed is the sum of its tests
        message = "" if outcome is Outcome.PASSED else cap("".join(outputs.get((package, test),
                                                                                [])).strip())
        results.append(TestResult(test or package, outcome if test else Outcome.ERROR, message,
                                  seconds, package))
    if not results and not ends:
        raise ResultsError("no test events")
    return results


def _event(line: str, number: int) -> dict[str, Any]:
    try:
        event = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ResultsError(f"line {number} is not JSON ({exc.msg})") from None
    if not isinstance(event, dict):
        raise ResultsError(f"line {number} is not a test event")
    return event
