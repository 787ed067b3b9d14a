"""The evidence layer without an engine: which tests a command names, reading JUnit XML and
`go test -json`, and the status results prove (table-driven, each case one line)."""

from __future__ import annotations

import json

import pytest

from runner.rubric.evidence.commands import invocations
from runner.rubric.evidence.gotest import parse_go_json
from runner.rubric.evidence.harness import Canary
from runner.rubric.evidence.junit import ResultsError, parse_junit
from runner.rubric.evidence.model import Expectation, Invocation, Outcome, TestResult, headline
from runner.rubric.evidence.verdict import decide, matches
from runner.rubric.status import Status

COMMANDS = [
    ("python3 -m unittest tests.test_x.Case", [("unittest", ("tests.test_x.Case",), True)]),
    ("python3 -m unittest \\\n  tests.test_x.A tests.test_x.B",
     [("unittest", ("tests.test_x.A", "tests.test_x.B"), True)]),
    ("cd app && python3 -B -m unittest -v t.T && echo '#PASS#'", [("unittest", ("t.T",), True)]),
    ("python3 -m unittest discover -s tests", [("unittest", (), False)]),
    ("python3 -m unittest -k slow t", [("unittest", ("t",), False)]),
    ("pytest -q tests/test_x.py::test_y", [("pytest", ("tests/test_x.py::test_y",), True)]),
    ("PYTHONPATH=src python3 -m pytest ./tests -x", [("pytest", ("tests",), True)]),
    ("pytest tests -k 'not slow' -p no:warnings", [("pytest", ("tests",), False)]),
    ("timeout 60 pytest $TESTS", [("pytest", (), False)]),
    ("go test -run '^TestA$|^TestB$' ./...", [("go", ("TestA", "TestB"), True)]),
    ("go test -run '^(TestA|TestB)$' ./...", [("go", ("TestA", "TestB"), True)]),
    ("go test -run TestA ./...", [("go", (), False)]),
    ("node --test test/a.test.js", [("node", ("test/a.test.js",), False)]),
    ("python3 -m unittest a; python3 -m unittest b",
     [("unittest", ("a",), True), ("unittest", ("b",), True)]),
    ("/usr/bin/python3 -m unittest t", []),  # a full path bypasses the harness: not found
    ("python3 -c 'import calc'", []),
    ("make test", []),
    ("echo 'unbalanced", []),
]


@pytest.mark.parametrize(("command", "expected"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_the_runners_a_command_starts_and_the_tests_it_names(command, expected):
    assert invocations(command) == [Invocation(r, n, e) for r, n, e in expected]


JUNIT = b"""<?xml version="1.0"?>
<testsuites><testsuite name="s">
  <testcase classname="tests.test_x.Case" name="test_ok" time="0.5"/>
  <testcase classname="tests.test_x.Case" name="test_bad"><failure message="AssertionError: 1 != 2">Traceback
AssertionError: 1 != 2</failure></testcase>
  <testcase classname="tests.test_x.Case" name="test_err"><error message="boom"/></testcase>
  <testcase classname="tests.test_x.Case" name="test_skip"><skipped message="later"/></testcase>
  <testcase classname="tests.test_y" name="test_p[1]"><properties>
    <property name="nodeid" value="tests/test_y.py::test_p[1]"/></properties></testcase>
</testsuite></testsuites>"""


def test_junit_every_testcase_with_its_outcome_and_message():
    assert parse_junit(JUNIT, "f.xml") == [
        TestResult("tests.test_x.Case.test_ok", Outcome.PASSED, "", 0.5, "f.xml"),
        TestResult("tests.test_x.Case.test_bad", Outcome.FAILED,
                   "Traceback\nAssertionError: 1 != 2", 0.0, "f.xml"),
        TestResult("tests.test_x.Case.test_err", Outcome.ERROR, "boom", 0.0, "f.xml"),
        TestResult("tests.test_x.Case.test_skip", Outcome.SKIPPED, "later", 0.0, "f.xml"),
        TestResult("tests/test_y.py::test_p[1]", Outcome.PASSED, "", 0.0, "f.xml")]


@pytest.mark.parametrize(("data", "message"), [
    (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]><x>&a;</x>",
     "it declares a DTD, which results never need"),
    (b"<testsuite><testcase", "not JUnit XML (unclosed token: line 1, column 11)"),
])
def test_junit_that_cannot_be_trusted_or_read_is_an_error(data, message):
    with pytest.raises(ResultsError) as info:
        parse_junit(data)
    assert str(info.value) == message


def test_go_test_json_results_and_a_package_that_does_not_build():
    events = [{"Action": "run", "Package": "p", "Test": "TestA"},
              {"Action": "output", "Package": "p", "Test": "TestA", "Output": "ok\n"},
              {"Action": "pass", "Package": "p", "Test": "TestA", "Elapsed": 0.1},
              {"Action": "output", "Package": "p", "Test": "TestB", "Output": "x_test.go:9: no\n"},
              {"Action": "fail", "Package": "p", "Test": "TestB"},
              {"Action": "fail", "Package": "q", "Elapsed": 0}]
    data = ("\n".join(json.dumps(e) for e in events) + "\n# q: build failed\n").encode()
    assert parse_go_json(data, "go.json") == [
        TestResult("TestA", Outcome.PASSED, "", 0.1, "p"),
        TestResult("TestB", Outcome.FAILED, "x_test.go:9: no", 0.0, "p"),
        TestResult("q", Outcome.ERROR, "", 0.0, "q")]


CANARY = Canary("c0ffee" * 5 + "00")
CANARY_OK = (f'<testcase classname="{CANARY.name}.TaskformCanary" name="test_canary">'
             f'<failure message="AssertionError">{CANARY.nonce}</failure></testcase>')


def results(*cases: str, canary: str = CANARY_OK) -> dict[str, bytes]:
    return {"unittest-12-ab.xml": f"<testsuite>{''.join(cases)}{canary}</testsuite>".encode()}


PASS_T = '<testcase classname="t.C" name="test_a"/>'
FAIL_T = '<testcase classname="t.C" name="test_b"><failure message="AssertionError: no"/></testcase>'
SKIP_T = '<testcase classname="t.C" name="test_b"><skipped message="later"/></testcase>'
NAMED = Expectation((Invocation("unittest", ("t.C",)),))
NAMED_B = Expectation((Invocation("unittest", ("t.C", "t.D")),))

VERDICTS = [
    ("every named test passed", NAMED, results(PASS_T), 0, Status.PASS, "1 test passed"),
    ("no results at all", NAMED, {}, 0, Status.FAIL,
     "no test results: the process ended before the tests ran (exit code 0)"),
    ("a failure is believed", NAMED, results(PASS_T, FAIL_T), 1, Status.FAIL,
     "1 of 2 tests failed: t.C.test_b (AssertionError: no)"),
    ("a named test that did not run", NAMED_B, results(PASS_T), 0, Status.FAIL,
     "test t.D did not run"),
    ("a named test that was skipped", NAMED, results(PASS_T, SKIP_T), 0, Status.FAIL,
     "test t.C.test_b was skipped: every named test must run and pass"),
    ("the canary passed", NAMED, results(PASS_T, canary=f'<testcase classname="{CANARY.name}'
                                                       '.TaskformCanary" name="test_canary"/>'),
     0, Status.ERROR, "test framework tampered with: the canary test passed"),
    ("the canary is missing", NAMED, results(PASS_T, canary=""), 0, Status.ERROR,
     "test framework tampered with: the canary test is missing from unittest-12-ab.xml"),
    ("the canary lost its nonce", NAMED, results(PASS_T, canary=CANARY_OK.replace(
        CANARY.nonce, "x")), 0, Status.ERROR,
     "test framework tampered with: the canary test failed without its nonce"),
    ("every test passed but the command did not", NAMED, results(PASS_T), 2, Status.FAIL,
     "exit code 2, though every test passed"),
    ("a results file that is not JUnit", NAMED, {"unittest-1-x.xml": b"garbage"}, 0,
     Status.FAIL, "test results unreadable: unittest-1-x.xml: not JUnit XML (syntax error: "
                  "line 1, column 0)"),
    ("one of two runs left nothing", Expectation((Invocation("unittest", ("t.C",)),
                                                  Invocation("unittest", ("t.C",)))),
     results(PASS_T), 0, Status.FAIL, "no test results: the process ended before the tests "
                                      "ran: 1 of 2 unittest runs wrote none"),
    ("markers mode without results decides nothing", Expectation(), {}, 0, None, ""),
    ("markers mode with results that fail", Expectation(), results(FAIL_T), 1, Status.FAIL,
     "1 of 1 tests failed: t.C.test_b (AssertionError: no)"),
]


@pytest.mark.parametrize(("expectation", "files", "exit_code", "status", "reason"),
                         [c[1:] for c in VERDICTS], ids=[c[0] for c in VERDICTS])
def test_what_the_results_prove(expectation, files, exit_code, status, reason):
    evidence = decide(expectation, files, {}, CANARY, exit_code)
    assert (evidence.status, evidence.reason) == (status, reason)
    assert all(CANARY.name not in t.id for t in evidence.tests)  # the canary is not shown


def test_a_results_file_the_script_refused_is_unreadable_evidence():
    evidence = decide(NAMED, results(PASS_T), {"pytest-9-x.xml": "not a plain file"}, CANARY, 0)
    assert (evidence.status, evidence.reason) == (
        Status.FAIL, "test results unreadable: pytest-9-x.xml: not a plain file")


MATCHES = [("unittest", "t.C", "t.C.test_a", True), ("unittest", "t.C", "t.Cx.test_a", False),
           ("pytest", "tests/a.py", "tests/a.py::test_x", True),
           ("pytest", "tests/a.py::test_x", "tests/a.py::test_x[1]", True),
           ("pytest", "tests", "tests/a.py::test_x", True),
           ("pytest", "tests/a.py::test_x", "tests/a.py::test_xy", False),
           ("go", "TestA", "TestA/sub", True), ("go", "TestA", "TestAB", False)]


@pytest.mark.parametrize(("runner", "name", "test_id", "expected"), MATCHES)
def test_a_named_test_and_the_results_that_belong_to_it(runner, name, test_id, expected):
    assert matches(runner, name, test_id) is expected


HEADLINES = [
    ("Traceback (most recent call last):\n  File \"t.py\", line 3\nAssertionError: -1 != 5",
     "AssertionError: -1 != 5"),
    ("Traceback (most recent call last):\nAssertionError: '5400s' != '1h30m'\n- 5400s\n"
     "+ 1h30m\n", "AssertionError: '5400s' != '1h30m'"),
    ("    def test_add():\n>       assert add(2, 3) == 5\nE       assert -1 == 5\n"
     "E        +  where -1 = add(2, 3)\n\ntests/t.py:5: AssertionError", "assert -1 == 5"),
    ("x_test.go:9: got 1, want 2", "x_test.go:9: got 1, want 2"),
    ("", ""),
]


@pytest.mark.parametrize(("message", "line"), HEADLINES)
def test_the_line_that_says_what_went_wrong(message, line):
    assert headline(message) == line
