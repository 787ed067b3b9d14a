"""Each quality gate finds the problems it is for, and nothing in a good task."""

from __future__ import annotations

from typing import Any

from doubles.content import needs_git

from runner.content import gates
from runner.content.gates import all_problems, readme_summary
from runner.content.models import Solution, TaskDraft
from runner.providers import git

pytestmark = needs_git

README = """# Task

## Task Overview
Fix the service in `app/main.py`.

## Objectives
- validate input
- page results

## How to Verify
- run `python3 -m unittest discover -s tests -t .`

## Helpful Tips
- see `app/store.py`
"""


def draft(**changes: Any) -> TaskDraft:
    base = {"name": "items-api", "question": "Make the items service validate and page.",
            "code_files": {"README.md": README, "app/main.py": "x = 1\n", "app/store.py": ""},
            "outcomes": ["valid", "paged"], "short_overview": ["a"], "answer": "do it",
            "hints": "one line", "definitions": {}}
    return TaskDraft.model_validate({**base, **changes})


def solution(**changes: Any) -> Solution:
    base = {"files": {"app/main.py": "x = 2\n"}, "steps": ["change x"],
            "tests": {"tests/held_out/test_x.py": "import unittest\n"},
            "rubric": [{"id": "x", "criterion": "x is two", "score": 10, "required": True,
                        "command": "python3 -m unittest tests.held_out.test_x"}]}
    return Solution.model_validate({**base, **changes})


def problems(d: TaskDraft, s: Solution, **profile: str) -> dict[str, list[str]]:
    starter = d.code_files
    return all_problems(d, s, git.diff(starter, {**starter, **s.files}), **profile)


def test_a_good_task_passes_every_gate() -> None:
    assert problems(draft(), solution()) == {"readme": [], "references": [], "leaks": [],
                                             "grading": [], "deploy": []}


def test_readme_sections() -> None:
    text = README.replace("## Helpful Tips\n- see `app/store.py`\n", "").replace(
        "## Objectives\n- validate input\n- page results\n", "## Objectives\n\n")
    found = problems(draft(code_files={"README.md": text, "app/main.py": ""}), solution())
    assert found["readme"] == ["README.md section 'Objectives' is empty",
                               "README.md has no section 'Helpful Tips'"]


def test_referenced_files_must_exist() -> None:
    d = draft(question="Edit `app/cache.py` and `docs/notes.md`.")
    s = solution(rubric=[{"id": "y", "criterion": "runs y", "score": 5, "required": True,
                          "command": "python3 -m pytest tests/held_out/test_y.py::test_a"}])
    assert problems(d, s)["references"] == [
        "question refers to app/cache.py, which is not among the files",
        "question refers to docs/notes.md, which is not among the files",
        "rubric criterion 'y' runs tests/held_out/test_y.py, which is not among the held-out tests"]


def test_solution_leaks_into_the_starter() -> None:
    answer = "Validate the body in app/main.py, collect each bad field and raise a 422 before storing."
    files = {"README.md": README, "app/main.py": "x = 1\n", "app/store.py": "",
             "tests/held_out/test_x.py": "import unittest\n", "SOLUTION.md": "the answer",
             "notes.txt": f"hint: {answer}"}
    s = solution(files={"app/main.py": "x = 1\n"})
    assert problems(draft(code_files=files, answer=answer), s)["leaks"] == [
        "held-out test tests/held_out/test_x.py is part of the starter",
        "starter file SOLUTION.md looks like solution or grading material",
        "the solution changes nothing: the starter already contains it",
        "starter file notes.txt contains the private answer text"]


def test_grading_material() -> None:
    criterion = {"id": "x", "criterion": "x is two", "score": 10, "required": False,
                 "command": "python3 -m unittest tests.held_out.test_x"}
    s = solution(rubric=[criterion, criterion])
    assert problems(draft(), s)["grading"] == [
        "rubric criterion ids are not unique: x",
        "no rubric criterion is required: a solution could fail them all and pass"]


def test_every_criterion_of_a_tests_graded_task_runs_a_test() -> None:
    s = solution(rubric=[{"id": "x", "criterion": "x is two", "score": 10, "required": True,
                          "command": "python3 -m unittest tests.held_out.test_x"},
                         {"id": "y", "criterion": "y is read", "score": 5, "required": False}])
    assert problems(draft(), s)["grading"] == ["rubric criterion 'y' has no test command"]


def test_a_review_graded_task_has_nothing_that_pretends_to_be_a_test() -> None:
    plan = {"id": "plan", "criterion": "the plan is specific", "score": 10, "required": True}
    assert problems(draft(), solution(tests={}, rubric=[plan]), grading="review")["grading"] == []
    assert problems(draft(), solution(rubric=[plan]), grading="review")["grading"] == [
        "the task is graded by review, yet it has held-out tests or test commands; a "
        "review-graded task has none"]


def test_a_docker_stack_task_must_ship_its_scripts() -> None:
    assert problems(draft(), solution(), deploy="docker")["deploy"] == [
        "run.sh is missing: a task of a Docker-based stack must ship run.sh (start it and wait "
        "for its health check) and kill.sh (remove only what run.sh made)",
        "kill.sh is missing: a task of a Docker-based stack must ship run.sh (start it and wait "
        "for its health check) and kill.sh (remove only what run.sh made)"]
    assert problems(draft(), solution(), deploy="none")["deploy"] == []


def test_test_targets_of_commands() -> None:
    assert gates.test_targets("python3 -m unittest tests.held_out.test_plan.PlanTest.test_a") == \
        ["tests/held_out/test_plan.py"]
    assert gates.test_targets("cd . && pytest -q ./tests/held_out/test_cli.py::test_b") == \
        ["tests/held_out/test_cli.py"]
    assert gates.test_targets("python3 -m unittest discover -s tests") == []


def test_readme_summary_is_the_seeds_readme_content() -> None:
    assert readme_summary(README) == {
        "task_overview": "Fix the service in `app/main.py`.",
        "objectives": ["validate input", "page results"],
        "how_to_verify": ["run `python3 -m unittest discover -s tests -t .`"],
        "helpful_tips": ["see `app/store.py`"]}


def test_schema_rules_of_the_task_json() -> None:
    import pydantic
    import pytest

    with pytest.raises(pydantic.ValidationError) as info:
        draft(name="Items API", hints="two\nlines", code_files={"app.py": ""})
    messages = sorted(e["msg"] for e in info.value.errors())
    assert messages == [
        "Value error, code_files must contain README.md",
        "Value error, hints must be a single line",
        "Value error, name must be kebab-case (a-z, 0-9, '-') and under 50 characters, got "
        "'Items API'"]
    assert draft(outcomes="- one\n- two").outcomes == ["one", "two"]
