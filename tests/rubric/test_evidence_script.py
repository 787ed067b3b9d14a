"""The evidence harness run by real bash against real git repositories (no container): pytest
through taskform's stand-in writes JUnit results with node ids and keeps the canary, however
the command filters; a candidate module that patches pytest, or ends the process, cannot
pass; the harness is there for a command that runs the tests through a script of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from grading_kit import diff_of, make_repo, run_grading, with_harness

from runner.rubric.script import GradingJob
from runner.rubric.status import Status

pytestmark = pytest.mark.slow  # each test runs bash, git and a real pytest: about a second
pytest.importorskip("pytest")  # the harness stands in for the pytest installed here

PROJECT = {"calc.py": "def add(a, b):\n    return a - b\n", "tests/__init__.py": ""}
HELD_OUT = {"tests/test_held_out.py": "from calc import add\n\n\ndef test_add():\n"
                                      "    assert add(2, 3) == 5\n\n\ndef test_zero():\n"
                                      "    assert add(0, 0) == 0\n"}
FIXED = {"calc.py": "def add(a, b):\n    return a + b\n"}
NODE = "tests/test_held_out.py::test_add"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "app", PROJECT)


def grade(repo: Path, command: str, solution: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return run_grading(with_harness(GradingJob(
        command=command, tests_patch=diff_of(repo, HELD_OUT),
        patch=diff_of(repo, solution) if solution else None, workdir=str(repo), user=None,
        timeout=60)))


def test_pytest_results_name_node_ids_and_decide(repo):
    failed = grade(repo, f"python3 -m pytest -q {NODE}")
    assert (failed.status, failed.evidence) == (Status.FAIL, "results")
    assert failed.reason == (f"1 of 1 tests failed: {NODE} (assert -1 == 5)")
    passed = grade(repo, f"pytest -q {NODE}", FIXED)
    assert (passed.status, passed.reason) == (Status.PASS, "1 test passed")
    assert [(t.id, str(t.outcome)) for t in passed.tests] == [(NODE, "passed")]


def test_the_canary_runs_whatever_k_selects(repo):
    outcome = grade(repo, "pytest -q tests -k test_add", FIXED)
    assert (outcome.status, outcome.reason) == (Status.PASS, "1 test passed")


def test_a_candidate_module_patching_pytest_is_caught_by_the_canary(repo):
    rigged = {"calc.py": "import _pytest.python\n\n_pytest.python.Function.runtest = "
                         "lambda self: None\n\n\ndef add(a, b):\n    return a - b\n"}
    outcome = grade(repo, f"pytest -q {NODE}", rigged)
    assert (outcome.status, outcome.reason) == (
        Status.ERROR, "test framework tampered with: the canary test passed")


def test_ending_the_test_process_early_with_exit_0_is_a_fail(repo):
    quitter = {"calc.py": "import os\n\nos._exit(0)\n"}
    outcome = grade(repo, f"pytest -q {NODE}", quitter)
    assert (outcome.status, outcome.reason) == (
        Status.FAIL, "no test results: the process ended before the tests ran (exit code 0)")


def test_the_projects_pytest_configuration_is_not_read(repo):
    # a candidate's setup.cfg that would deselect the failing test: ignored (-c /dev/null)
    sneaky = {"setup.cfg": f"[tool:pytest]\naddopts = --deselect {NODE}\n"}
    outcome = grade(repo, "pytest -q tests", sneaky)
    assert (outcome.status, outcome.reason) == (
        Status.FAIL, f"1 of 2 tests failed: {NODE} (assert -1 == 5)")


def test_tests_run_by_a_script_of_the_command_still_report(repo):
    # no runner in the command itself, so exit code and markers decide (the weaker mode), but
    # results that appear anyway are read: their failures count
    wrapped = "bash -c 'pytest -q tests'"
    failed = grade(repo, wrapped)
    assert (failed.status, failed.evidence, failed.reason) == (
        Status.FAIL, "results", f"1 of 2 tests failed: {NODE} (assert -1 == 5)")
    passed = grade(repo, wrapped, FIXED)
    assert (passed.status, passed.evidence, passed.reason) == (
        Status.PASS, "results", "2 tests passed")
