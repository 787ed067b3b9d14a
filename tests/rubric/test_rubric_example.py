"""examples/rubric-grading, checked for real without Docker: every patch applies to the
pristine project, and grading every criterion × solution with the grading script (real bash,
real git, real python3) gives exactly the matrix its README promises."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from grading_kit import git, make_repo, run_grading, with_harness

from runner.rubric.outcome import GradingOutcome, refused
from runner.rubric.parse import find_rubric, load_rubric
from runner.rubric.patch_rules import refusal
from runner.rubric.score import ValidateSettings, check_gates, score_solution
from runner.rubric.script import GradingJob
from runner.rubric.status import Status

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rubric-grading"
SOLUTIONS = {"solution1": "solution1.patch", "solution2": "solution2.patch",
             "solution3": "solution3.patch", "golden": "golden.patch", "original": None}


def project_files() -> dict[str, str]:
    root = EXAMPLE / "project"
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return make_repo(tmp_path_factory.mktemp("example") / "app", project_files())


def patch(name: str | None) -> str | None:
    return (EXAMPLE / name).read_text() if name else None


def readme_table(marker: str) -> list[list[str]]:
    text = (EXAMPLE / "README.md").read_text()
    block = text.split(f"<!-- {marker}")[1].split("<!-- end")[0]
    rows = [line for line in block.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def test_the_rubric_uses_both_header_styles():
    path = find_rubric(EXAMPLE)
    assert path.name == "TASK_DATA.md"
    rubric = load_rubric(path, "TASK_DATA.md")
    assert [(c.title, c.id, c.counter, c.score, c.required) for c in rubric.criteria] == [
        ("#1", "3f1c8a52-6d0e-4b7a-9c21-5e8f0a7d4b13", 1, 3.0, True),
        ("crit-02", "rejects-garbage", 2, 2.0, True),
        ("#3", "9b2e4c71-0a5f-4d38-8e6b-2c7d1f9a0e54", 3, 2.0, False),
        ("crit-04", "spacing-and-case", 4, 1.0, False),
        ("#5", "format-round-trip", 5, 2.0, False)]
    assert rubric.criteria[0].criterion.count("\n\n") == 1  # two paragraphs
    assert rubric.criteria[4].command == "python3 -m unittest \\\n  tests.test_held_out.Format"


def test_the_visible_tests_pass_on_the_pristine_project(pristine):
    proc = subprocess.run([sys.executable, "-m", "unittest", "-q"], cwd=pristine,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("name", ["golden.patch", "solution1.patch", "solution2.patch",
                                  "solution3.patch", "held_out_tests.patch"])
def test_every_patch_applies_to_the_pristine_project(pristine, name):
    git(pristine, "apply", "--check", str(EXAMPLE / name))


@pytest.mark.parametrize("name", ["golden.patch", "solution1.patch", "solution2.patch"])
def test_the_held_out_tests_apply_after_each_honest_solution(pristine, name):
    git(pristine, "apply", str(EXAMPLE / name))
    try:
        git(pristine, "apply", "--check", str(EXAMPLE / "held_out_tests.patch"))
    finally:
        git(pristine, "reset", "-q", "--hard")
        git(pristine, "clean", "-qffdx")


def grade_one(pristine: Path, command: str, solution: str | None) -> GradingOutcome:
    tests = (EXAMPLE / "held_out_tests.patch").read_text()
    why = refusal(solution, tests)
    if why:
        return refused(why)
    return run_grading(with_harness(GradingJob(command=command, tests_patch=tests,
                                               patch=solution, workdir=str(pristine),
                                               user=None, timeout=60)))


@pytest.fixture(scope="module")
def graded(pristine) -> dict[tuple[str, str], GradingOutcome]:
    rubric = load_rubric(EXAMPLE / "TASK_DATA.md", "TASK_DATA.md")
    return {(c.id, s): grade_one(pristine, c.command, patch(f))
            for c in rubric.criteria for s, f in SOLUTIONS.items()}


@pytest.mark.slow  # grades 25 cells with real bash, git and python3
def test_grading_gives_the_matrix_the_readme_promises(graded):
    rubric = load_rubric(EXAMPLE / "TASK_DATA.md", "TASK_DATA.md")
    got = [[str(c.counter), c.id, f"{c.score:g}", "yes" if c.required else "no",
            *(str(graded[(c.id, s)].status) for s in SOLUTIONS)] for c in rubric.criteria]
    assert got == readme_table("expected-matrix")


@pytest.mark.slow  # grades 25 cells with real bash, git and python3
def test_scores_verdicts_and_gates(graded):
    rubric = load_rubric(EXAMPLE / "TASK_DATA.md", "TASK_DATA.md")
    scores = {s: score_solution(s, rubric.criteria, {c.id: graded[(c.id, s)].status
                                                     for c in rubric.criteria})
              for s in SOLUTIONS}
    counters = {c.id: f"#{c.counter}" for c in rubric.criteria}
    got = [[s, f"{sc.earned:g}/{sc.total:g}",
            ", ".join(counters[i] for i in sc.required_failed) or "—", sc.verdict]
           for s, sc in scores.items()]
    text = (EXAMPLE / "README.md").read_text()
    table = text.split("| solution | score | required failed | verdict |")[1].split("\n\n")[0]
    rows = [[c.strip() for c in r.strip("|").split("|")] for r in table.strip().splitlines()[1:]]
    assert got == rows
    gates = check_gates(ValidateSettings(), rubric.criteria,
                        {c.id: [graded[(c.id, "golden")].status] for c in rubric.criteria},
                        {c.id: graded[(c.id, "original")].status for c in rubric.criteria})
    assert gates.ok, gates.messages


@pytest.mark.slow  # grades 25 cells with real bash, git and python3
def test_the_cheat_is_caught_twice(pristine, graded):
    refused_cell = graded[("rejects-garbage", "solution3")]
    assert (refused_cell.status, refused_cell.reason) == (
        Status.ERROR, "solution modifies held-out tests: tests/test_held_out.py")
    # even without the check, the held-out tests applied after it refuse to overwrite its file
    unchecked = run_grading(GradingJob(
        command="python3 -m unittest tests.test_held_out.Garbage",
        tests_patch=(EXAMPLE / "held_out_tests.patch").read_text(),
        patch=patch("solution3.patch"), workdir=str(pristine), user=None, timeout=60))
    assert (unchecked.status, unchecked.reason) == (
        Status.ERROR, "held-out tests patch does not apply after the solution: error: "
                      "tests/test_held_out.py: already exists in working directory")


@pytest.mark.slow  # grades 25 cells with real bash, git and python3
def test_the_partial_solution_fails_for_the_reasons_the_readme_gives(graded):
    garbage = graded[("rejects-garbage", "solution2")]
    assert garbage.status is Status.FAIL
    assert garbage.reason == ("1 of 1 tests failed: tests.test_held_out.Garbage."
                              "test_not_durations_raise_value_error (AssertionError: ValueError "
                              "not raised)")
    assert re.search(r"AssertionError: ValueError not raised", garbage.output)
    spacing = graded[("spacing-and-case", "solution2")]
    assert "AssertionError: 0 != 7500" in spacing.output
