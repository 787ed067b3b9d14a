"""The offline catalogue, read without Docker: every exercise renders, its golden and held-out
patches apply with real `git apply`, every criterion's command names tests that the held-out
files define, its scenarios lead back to it, and the offline review accepts it with its own
scenario. (Grading each exercise for real, golden passing and starter failing every criterion,
is tests/content/test_exercises_grade.py, in Docker.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from doubles.content import needs_git

from runner.content import exercises, gates, offline, scaffold
from runner.content.behaviour import named_tests
from runner.content.gates import readme_sections
from runner.content.models import Solution, TaskDraft
from runner.errors import TaskformError
from runner.providers import git
from runner.providers.llm import Request
from runner.workspace import Workspace, WorkspaceConfig

pytestmark = needs_git

CODE_SCAFFOLDS = {"python-fastapi": "Python - FastAPI", "node-express": "Node.js",
                  "go": "Go", "sql-postgresql": "PostgreSQL"}
SHIPPED = Workspace(root=Path("/nonexistent-workspace"), config=WorkspaceConfig())


def variables(names: list[str], scenario: str = "") -> dict[str, object]:
    return {"title": "Demo Task", "slug": "demo-task", "repo": "demo-task",
            "competencies": [{"name": n, "proficiency": "BASIC"} for n in names],
            "competency_names": " and ".join(names), "proficiency": "BASIC",
            "minutes_range": "15-20", "scenario": scenario, "scenario_key": "", "feedback": [],
            "background": {"organization_background": "A shop", "role_context": "Developer"},
            "stack": "x", "category": "BACKEND", "exercise_id": ""}


def catalogue() -> list[tuple[str, str]]:
    return [(name, exercise) for name in CODE_SCAFFOLDS
            for exercise in scaffold.exercises(SHIPPED, name)]


def test_the_catalogue_has_three_exercises_per_code_scaffold() -> None:
    assert {name: len(scaffold.exercises(SHIPPED, name)) for name in CODE_SCAFFOLDS} == {
        "python-fastapi": 3, "node-express": 3, "go": 3, "sql-postgresql": 3}
    assert scaffold.spec(SHIPPED, "generic").grading == "review"


@pytest.mark.parametrize("name, exercise", catalogue())
def test_an_exercise_is_complete_and_consistent(tmp_path: Path, name: str, exercise: str) -> None:
    names = [CODE_SCAFFOLDS[name]]
    own = exercises.choose(SHIPPED, name, scenario=None, requested=exercise, seed="x",
                           variables=exercises.scenario_variables(
                               [{"name": n} for n in names], "BASIC"), category="BACKEND")
    rendered = scaffold.render(SHIPPED, name, exercise, variables(names, own.scenario))
    starter = rendered.starter
    assert {"README.md", "run.sh", "kill.sh"} <= set(starter)
    golden = git.diff(starter, {**starter, **rendered.solution})
    # the answers fit the models a generator must answer with, and every static gate passes
    draft = TaskDraft.model_validate({**rendered.task, "code_files": starter})
    solution = Solution.model_validate({"files": rendered.solution, "steps": rendered.steps,
                                        "tests": rendered.tests, "rubric": rendered.rubric})
    assert gates.all_problems(draft, solution, golden, grading="tests", deploy="docker") == {
        "readme": [], "references": [], "leaks": [], "grading": [], "deploy": []}
    held_out = git.diff(starter, {**starter, **rendered.tests})
    root = tmp_path / "repo"
    git.write_files(root, starter)
    git.git(["init", "-q"], root)
    for n, patch in enumerate((golden, held_out)):
        (tmp_path / f"{n}.patch").write_text(patch)
        git.git(["apply", str(tmp_path / f"{n}.patch")], root)
    tests_text = "\n".join(rendered.tests.values())
    for criterion in rendered.rubric:
        named = named_tests(criterion["command"])
        assert named, criterion["command"]
        for test in named:
            pattern = test.strip("^$")
            assert re.search(rf"\b{re.escape(pattern)}\b", tests_text), (criterion["id"], test)
    # its own scenarios lead back to it, and the offline review accepts the task
    for text in scaffold.exercise_spec(SHIPPED, name, exercise).scenarios:
        chosen = exercises.choose(SHIPPED, name, scenario=text, requested=None, seed="x",
                                  variables={}, category="BACKEND")
        assert chosen.exercise == exercise, text[:80]
    review = offline.answer(SHIPPED, Request("task_review", (), dict, {
        "draft": {**rendered.task, "code_files": starter}, "competencies": [{"name": names[0]}],
        "solution": {"rubric": rendered.rubric, "tests": rendered.tests, "files": {}},
        "scenario": own.scenario, "grading": "tests"}))
    assert review == {"pass": True, "issues": [], "feedback": "meets the offline review rules"}
    assert "Objectives" in readme_sections(starter["README.md"])


def test_unknown_scaffold_and_exercise_list_the_known_ones() -> None:
    with pytest.raises(TaskformError) as info:
        scaffold.render(SHIPPED, "cobol", "x", variables(["COBOL"]))
    assert str(info.value) == ("no scaffold 'cobol': neither templates/tasks/cobol/scaffold.yaml "
                               "nor taskform's own exists; scaffolds: generic, go, node-express, "
                               "python-fastapi, sql-postgresql")
    with pytest.raises(TaskformError) as info:
        scaffold.render(SHIPPED, "go", "fizzbuzz", variables(["Go"]))
    assert str(info.value) == ("scaffold 'go' has no exercise 'fizzbuzz'; its exercises: "
                               "retry-client, stock-reservations, tasks-api")
