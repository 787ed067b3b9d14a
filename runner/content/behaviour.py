"""The behaviour a rubric criterion checks, in words, and whether a task's scenario, README
objectives and held-out tests all name it: a README whose scenario asks for idempotent payments
above objectives about paging is a task that contradicts itself, and the offline review rejects
it. A criterion declares its words (`behaviour`); without them they come from the names of the
tests its command runs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_STOP = frozenset("test tests that with when then returns return should does into from each "
                  "only have their this what which without".split())


def terms_of(criterion: Mapping[str, Any]) -> list[str]:
    """The words naming what a criterion checks: declared, else from its test names."""
    declared = [str(t).strip().lower() for t in criterion.get("behaviour") or [] if str(t).strip()]
    if declared:
        return declared
    words = [w.lower() for name in named_tests(str(criterion.get("command") or ""))
             for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", name)]
    return sorted({w[:6] for w in words if len(w) >= 4 and w not in _STOP})


def named_tests(command: str) -> list[str]:
    """The tests a command names: pytest node ids, `go test -run`, node's name patterns."""
    names = re.findall(r"::(\w+)", command)
    for pattern in re.findall(r"-run[= ]['\"]?([^'\"\s]+)", command):
        names += re.findall(r"Test\w+", pattern)
    for pattern in re.findall(r"--test-name-pattern[= ]['\"]([^'\"]+)['\"]", command):
        names.append(pattern)
    return names


def mentions_any(text: str, terms: Sequence[str]) -> bool:
    lowered = text.lower()
    return any(term.lower() in lowered for term in terms)


def consistency_problems(scenario: str, objectives: str, rubric: Sequence[Mapping[str, Any]],
                         tests: Mapping[str, str], targets: Mapping[str, list[str]]) -> list[str]:
    """Where the scenario, the objectives and the held-out tests do not name the same
    behaviour. `targets` maps a criterion id to the test files its command runs."""
    if not scenario.strip():
        return ["SCENARIO: the task has no scenario, so nothing situates its objectives"]
    problems = []
    for criterion in rubric:
        terms = terms_of(criterion)
        if not terms:
            continue
        label = f"criterion {criterion['id']!r} checks {', '.join(terms)}"
        if not mentions_any(objectives, terms):
            problems.append(f"CONSISTENCY: {label}, which the README objectives never mention")
        ran = [tests[t] for t in targets.get(str(criterion["id"]), []) if t in tests]
        if ran and not any(mentions_any(text, terms) for text in ran):
            problems.append(f"CONSISTENCY: {label}, which the held-out tests it runs never "
                            "mention")
        if criterion.get("required") and not mentions_any(scenario, terms):
            problems.append(f"CONSISTENCY: {label}, which the scenario never mentions: the "
                            "scenario describes another problem than the task grades")
    return problems
