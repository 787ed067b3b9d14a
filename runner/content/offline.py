"""The `template` provider's answers: scaffolds rendered from `templates/tasks/`, scenarios from
`templates/scenarios/bank.yaml`, and reviews by explicit rules. Deterministic and offline, and
the reviews can fail: they are gates, not rubber stamps."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from runner.content import exercises, scaffold
from runner.content.behaviour import consistency_problems, named_tests
from runner.content.gates import readme_sections, test_targets
from runner.content.offline_review import submission_review
from runner.content.scenarios import section_bodies
from runner.errors import TaskformError
from runner.providers.llm import Request
from runner.workspace import Workspace

SCOPE_LIMITS = {"BEGINNER": 1500, "BASIC": 1500, "INTERMEDIATE": 2200, "ADVANCED": 3000}
MAX_STARTER_FILES, MAX_STARTER_BYTES = 60, 256 * 1024


def answer(ws: Workspace, request: Request) -> dict[str, Any]:
    handler = _HANDLERS.get(request.purpose)
    if handler is None:
        raise TaskformError(f"the template provider cannot answer {request.purpose!r}")
    return handler(ws, dict(request.facts))


def _task(ws: Workspace, facts: dict[str, Any]) -> dict[str, Any]:
    rendered = scaffold.render(ws, facts["scaffold"], facts["exercise"], facts["variables"])
    return {**rendered.task, "code_files": rendered.starter}


def _solution(ws: Workspace, facts: dict[str, Any]) -> dict[str, Any]:
    rendered = scaffold.render(ws, facts["scaffold"], facts["exercise"], facts["variables"])
    return {"files": rendered.solution, "steps": rendered.steps, "tests": rendered.tests,
            "rubric": rendered.rubric}


def _task_review(ws: Workspace, facts: dict[str, Any]) -> dict[str, Any]:
    draft, solution = facts["draft"], facts["solution"]
    readme = draft["code_files"].get("README.md", "")
    sections = {k.casefold(): v for k, v in readme_sections(readme).items()}
    issues = []
    text = " ".join([readme, draft["question"]]).casefold()
    missing = [c["name"] for c in facts["competencies"] if c["name"].casefold() not in text]
    if missing:
        issues.append(f"REALISM: the task never names {', '.join(missing)}")
    objectives = re.findall(r"^\s*[-*]\s+", sections.get("objectives", ""), re.M)
    if not 1 <= len(objectives) <= 8:
        issues.append(f"CALIBRATION: {len(objectives)} objectives; expected 1 to 8")
    if "`" not in sections.get("how to verify", ""):
        issues.append("TECHNICAL_DETAIL: How to Verify gives no command to run")
    if len(draft["outcomes"]) < 2 or not draft["hints"]:
        issues.append("COMPLETENESS: fewer than 2 outcomes, or no hint")
    size = sum(len(v.encode()) for v in draft["code_files"].values())
    if len(draft["code_files"]) > MAX_STARTER_FILES or size > MAX_STARTER_BYTES:
        issues.append(f"SCOPE: the starter has {len(draft['code_files'])} files, {size} bytes")
    if not solution["rubric"]:
        issues.append("COMPLETENESS: no rubric")
    issues += _consistency(facts, sections.get("objectives", ""))
    return {"pass": not issues, "issues": issues,
            "feedback": "meets the offline review rules" if not issues else "; ".join(issues)}


def _consistency(facts: dict[str, Any], objectives: str) -> list[str]:
    """The scenario, the objectives and the held-out tests must name the same behaviour (a
    review-graded task has no tests: its scenario must only exist)."""
    scenario = str(facts.get("scenario") or "")
    if facts.get("grading") == "review":
        return [] if scenario.strip() else \
            ["SCENARIO: the task has no scenario, so nothing situates its objectives"]
    rubric = facts["solution"]["rubric"]
    targets = {str(c["id"]): test_targets(str(c.get("command") or "")) for c in rubric}
    return consistency_problems(scenario, objectives, rubric, facts["solution"]["tests"],
                                targets)


def _scenarios(ws: Workspace, facts: dict[str, Any]) -> dict[str, Any]:
    variables = {"names": facts["names"], "first": facts["first"],
                 "proficiency": facts["proficiency"]}
    entries = exercises.offline_bank(ws, str(facts["category"]), facts.get("scaffold"),
                                     variables)
    start, count = int(facts.get("offset", 0)), int(facts["count"])
    return {"scenarios": [entries[(start + i) % len(entries)] for i in range(count)]}


def _scenario_review(ws: Workspace, facts: dict[str, Any]) -> dict[str, Any]:
    names = facts["competency_names"]
    limit = SCOPE_LIMITS.get(facts["proficiency"], 3000)
    evaluations = []
    for index, text in enumerate(facts["candidates"]):
        bodies, failed = section_bodies(text), []
        if not any(n.casefold() in text.casefold() for n in names):
            failed.append("REALISM")
        if not re.search(r"\d", bodies.get("Current Implementation", "")):
            failed.append("TECHNICAL_DETAIL")
        if not re.search(r"\d", bodies.get("Success Criteria", "")):
            failed.append("COMPLETENESS")
        if not 8 <= len(bodies.get("Your Task", "").split()) <= 150:
            failed.append("CALIBRATION")
        if len(text) > limit:
            failed.append("SCOPE")
        evaluations.append({"index": index, "pass": not failed, "failed_criteria": failed,
                            "reason": _scenario_reason(failed, names, limit)})
    return {"evaluations": evaluations}


def _scenario_reason(failed: list[str], names: list[str], limit: int) -> str:
    why = {"REALISM": f"names none of {', '.join(names)}",
           "TECHNICAL_DETAIL": "the current implementation has no concrete figure",
           "COMPLETENESS": "the success criteria are not measurable",
           "CALIBRATION": "the task is not 8 to 150 words", "SCOPE": f"over {limit} characters"}
    return "; ".join(why[f] for f in failed)


def _task_check(ws: Workspace, facts: dict[str, Any]) -> dict[str, Any]:
    issues = []
    try:
        rubric = json.loads(facts["rubric"])
    except json.JSONDecodeError as exc:
        return {"verdict": "fail", "issues": [f"the rubric is not JSON: {exc}"], "summary": ""}
    if not isinstance(rubric, list) or not rubric:
        return {"verdict": "fail", "issues": ["the rubric has no criteria"], "summary": ""}
    added = set(re.findall(r"^\+\+\+ b/(\S+)", facts["patch"], re.M))
    for n, item in enumerate(rubric, 1):
        commands = [f.get("criterion_test_command", "") for f in
                    (item.get("forms") or {}).values() if isinstance(f, dict)]
        label = item.get("rubricItemId") or f"#{n}"
        if not str(item.get("criterion", "")).strip():
            issues.append(f"criterion {label} has no text")
        targets = [t for c in commands for t in test_targets(c)]
        names = [n.strip("^$") for c in commands for n in named_tests(c)]
        if not targets and not names:
            issues.append(f"criterion {label} runs no test file")
        issues += [f"criterion {label} runs {t}, which the held-out patch does not add"
                   for t in targets if t not in added]
        # a test named by the command (`go test -run '^TestX$' ./pkg`) must be one it adds
        issues += [f"criterion {label} runs the test {n}, which the held-out patch does not add"
                   for n in names if not _adds_test(facts["patch"], n)]
    if not facts["prompt"].strip():
        issues.append("the task prompt is empty")
    summary = (f"{len(rubric)} criteria; every one runs a test the held-out patch adds"
               if not issues else f"{len(issues)} problem(s) found")
    return {"verdict": "fail" if issues else "pass", "issues": issues, "summary": summary}


def _adds_test(patch: str, name: str) -> bool:
    added = "\n".join(line[1:] for line in patch.splitlines() if line.startswith("+"))
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", added) is not None


_HANDLERS: dict[str, Callable[[Workspace, dict[str, Any]], dict[str, Any]]] = {
    "task": _task, "solution": _solution, "task_review": _task_review,
    "scenarios": _scenarios, "scenario_review": _scenario_review, "task_check": _task_check,
    "submission_review": lambda ws, facts: submission_review(facts)}
