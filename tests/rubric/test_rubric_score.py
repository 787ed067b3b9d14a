"""Scores per solution, verdicts, validation gates, and what a patch may not touch."""

from __future__ import annotations

import pytest

from runner.rubric.model import Criterion
from runner.rubric.patch_files import file_changes
from runner.rubric.patch_rules import PatchRules, refusal
from runner.rubric.score import (
    ValidateSettings,
    check_gates,
    combine_repeats,
    gate_details,
    score_solution,
)
from runner.rubric.status import Status

P, F, T, E = Status.PASS, Status.FAIL, Status.TIMEOUT, Status.ERROR


def crit(ident: str, score: float, required: bool) -> Criterion:
    return Criterion(id=ident, counter=0, score=score, required=required, criterion="",
                     command="true")


CRITERIA = [crit("c1", 3, True), crit("c2", 2, True), crit("c3", 2.5, False), crit("c4", 1, False)]

SCORES = [
    ("all pass", {"c1": P, "c2": P, "c3": P, "c4": P}, 8.5, (), (), "pass"),
    ("optional failures keep the verdict", {"c1": P, "c2": P, "c3": F, "c4": T}, 5.0, (), (),
     "pass"),
    ("a failed required criterion fails the verdict", {"c1": P, "c2": E, "c3": P, "c4": P}, 6.5,
     ("c2",), (), "fail"),
    ("timeouts and errors are failures", {"c1": T, "c2": E, "c3": F, "c4": F}, 0.0,
     ("c1", "c2"), (), "fail"),
    ("not graded yet is incomplete", {"c1": P, "c2": P, "c3": P}, 7.5, (), ("c4",),
     "incomplete"),
    ("a required failure decides even when incomplete", {"c1": F}, 0.0, ("c1",),
     ("c2", "c3", "c4"), "fail"),
]


@pytest.mark.parametrize("statuses,earned,required_failed,missing,verdict",
                         [c[1:] for c in SCORES], ids=[c[0] for c in SCORES])
def test_score_solution(statuses, earned, required_failed, missing, verdict):
    score = score_solution("solution1", CRITERIA, statuses)
    assert (score.earned, score.total, score.required_failed, score.missing, score.verdict) == (
        earned, 8.5, required_failed, missing, verdict)
    assert set(score.passed) | set(score.failed) | set(score.missing) == {"c1", "c2", "c3", "c4"}


def test_repeats_combine_to_the_first_non_pass():
    assert combine_repeats([P, P, P]) is P
    assert combine_repeats([P, T, F]) is T
    with pytest.raises(ValueError):
        combine_repeats([])


ALL = ["c1", "c2", "c3", "c4"]
GATES = [
    ("golden passes, original fails: ok", {c: [P] for c in ALL}, {c: F for c in ALL}, {}, []),
    ("golden fails, naming criteria and statuses", {"c1": [P], "c2": [F], "c3": [T], "c4": [P]},
     {c: F for c in ALL}, {},
     ["the golden patch fails 2 criteria: c2 (FAIL), c3 (TIMEOUT)"]),
    ("golden not graded counts as failing", {"c1": [P], "c2": [P], "c3": [P]},
     {c: F for c in ALL}, {}, ["the golden patch fails 1 criterion: c4 (not graded)"]),
    ("original passes a criterion", {c: [P] for c in ALL}, {"c1": F, "c2": P, "c3": E, "c4": T},
     {}, ["the original passes 1 criterion it should fail: c2"]),
    ("flaky golden is named, not also reported as failing",
     {"c1": [P, P, P], "c2": [P, F, P], "c3": [F, F, F], "c4": [P, P, P]},
     {c: F for c in ALL}, {"repeat": 3},
     ["the golden patch fails 1 criterion: c3 (FAIL, FAIL, FAIL)",
      "the golden result is flaky across 3 runs for 1 criterion: c2 (PASS, FAIL, PASS)"]),
    ("gates switched off", {"c1": [F], "c2": [F], "c3": [F], "c4": [F]}, {c: P for c in ALL},
     {"golden_must_pass": False, "original_must_fail": False}, []),
]


@pytest.mark.parametrize("golden,original,settings,messages", [g[1:] for g in GATES],
                         ids=[g[0] for g in GATES])
def test_gates(golden, original, settings, messages):
    result = check_gates(ValidateSettings(**settings), CRITERIA, golden, original)
    assert list(result.messages) == messages
    assert result.ok is (not messages)


def test_gate_details_say_in_words_which_criteria_failed():
    criteria = [Criterion(id=f"9f62ea95-{n}", counter=n, score=1, required=True,
                          criterion=text, command="true")
                for n, text in ((1, "Validates\n  bodies."), (2, "Pages."), (3, ""))]
    ids = [c.id for c in criteria]
    result = check_gates(ValidateSettings(), criteria, {ids[0]: [P], ids[1]: [F], ids[2]: [P]},
                         {ids[0]: F, ids[1]: F, ids[2]: P})
    assert gate_details(result, criteria) == (
        "the golden patch fails 1 criterion: 9f62ea95-2 (FAIL)\n"
        "the original passes 1 criterion it should fail: 9f62ea95-3\n"
        "criteria:\n"
        "  #2 9f62ea95-2: Pages.\n"
        "  #3 9f62ea95-3: (no text)")
    passing = check_gates(ValidateSettings(), criteria, {i: [P] for i in ids}, {i: F for i in ids})
    assert gate_details(passing, criteria) == ""


def test_validate_settings_reject_unknown_keys_and_silly_repeats():
    with pytest.raises(ValueError):
        ValidateSettings(golden_must_pas=True)  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        ValidateSettings(repeat=0)


SOLUTION = """diff --git a/src/app.py b/src/app.py
index 1111111..2222222 100644
--- a/src/app.py
+++ b/src/app.py
@@ -1,2 +1,2 @@
 def f():
--- a line that looks like a header
+++ another one
diff --git a/tests/test_hidden.py b/tests/test_hidden.py
new file mode 100644
--- /dev/null
+++ b/tests/test_hidden.py
@@ -0,0 +1 @@
+assert True
diff --git a/old name.py b/new name.py
similarity index 100%
rename from old name.py
rename to new name.py
diff --git "a/t\\303\\251st.py" "b/t\\303\\251st.py"
deleted file mode 100644
--- "a/t\\303\\251st.py"
+++ /dev/null
@@ -1 +0,0 @@
-x
"""
TESTS = """diff --git a/tests/test_hidden.py b/tests/test_hidden.py
new file mode 100644
--- /dev/null
+++ b/tests/test_hidden.py
@@ -0,0 +1,2 @@
+import unittest
+
"""


def touched(patch: str) -> set[str]:
    return set().union(*(c.paths for c in file_changes(patch)))


def test_paths_are_read_from_git_diffs_including_renames_and_quoted_names():
    assert touched(SOLUTION) == {"src/app.py", "tests/test_hidden.py", "old name.py",
                                 "new name.py", "tést.py"}


def test_hunk_content_is_never_read_as_a_header():
    assert "a line that looks like a header" not in str(touched(SOLUTION))


def test_a_solution_touching_held_out_tests_is_refused():
    assert refusal(SOLUTION, TESTS) == "solution modifies held-out tests: tests/test_hidden.py"


def test_a_solution_adding_test_harness_files_is_refused():
    patch = ("diff --git a/pkg/conftest.py b/pkg/conftest.py\nnew file mode 100644\n"
             "--- /dev/null\n+++ b/pkg/conftest.py\n@@ -0,0 +1 @@\n+import os\n")
    assert refusal(patch, TESTS) == (
        "solution modifies test-harness files: pkg/conftest.py (protected: conftest.py, "
        "sitecustomize.py, usercustomize.py, *.pth, pytest.ini)")
    assert refusal(patch, TESTS, PatchRules(protected=())) is None


def test_the_original_and_innocent_patches_are_graded():
    assert refusal(None, TESTS) is None
    assert refusal(SOLUTION.split("diff --git a/tests")[0], TESTS) is None


def _new(path: str) -> str:
    return (f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
            "@@ -0,0 +1 @@\n+raise SystemExit(0)\n")


STDLIB = ("solution adds a module named like one of Python's standard library, which the work "
          "dir would shadow: ")
SHADOWS = [
    ("a new top-level package", _new("json/__init__.py"), STDLIB + "json/__init__.py"),
    ("a module deeper down shadows nothing", _new("pkg/unittest.py"), None),
    ("a new module with its own name", _new("calc_extra.py"), None),
    ("an existing top-level module edited", "diff --git a/code.py b/code.py\n--- a/code.py\n"
     "+++ b/code.py\n@@ -1 +1 @@\n-a\n+b\n", None),
    ("a rename onto a standard-library name", "diff --git a/helpers.py b/types.py\n"
     "similarity index 100%\nrename from helpers.py\nrename to types.py\n", STDLIB + "types.py"),
]


@pytest.mark.parametrize(("patch", "expected"), [c[1:] for c in SHADOWS],
                         ids=[c[0] for c in SHADOWS])
def test_new_modules_shadowing_the_standard_library(patch, expected):
    assert refusal(patch, TESTS) == expected


def test_a_solution_shadowing_the_standard_library_is_refused():
    assert refusal(_new("json/__init__.py"), TESTS) == (
        "solution adds a module named like one of Python's standard library, which the work "
        "dir would shadow: json/__init__.py")
    assert refusal(_new("unittest.py"), TESTS) == (
        "solution adds a module named like the test framework, which the work dir would "
        "shadow: unittest.py")


def test_a_solution_touching_the_held_out_tests_package_init_is_refused():
    tests = _new("tests/unit/test_hidden.py")
    assert refusal(_new("tests/__init__.py"), tests) == (
        "solution modifies the package of the held-out tests: tests/__init__.py")
    assert refusal(_new("tests/unit/__init__.py"), tests) == (
        "solution modifies the package of the held-out tests: tests/unit/__init__.py")
    assert refusal(_new("src/__init__.py"), tests) is None
    assert refusal(_new("tests/test_mine.py"), tests) is None  # its own tests are fine
