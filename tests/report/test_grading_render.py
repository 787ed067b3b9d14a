"""Grading reports rendered from matrices: the terminal table, Markdown and JSON, asserted
whole; the HTML page's escaping."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from grading_records import commit_failed_child, commit_grading

from runner.report.grading import render_json, render_markdown, render_table, seconds
from runner.report.grading_html import render_html
from runner.report.grading_junit import render_junit
from runner.rubric.results import matrices
from runner.rubric.score import ValidateSettings

PARENT = "pipeline.durations.grade"
TABLE = {"solution1": "PPP", "solution2": "PFF", "golden": "PPP", "original": "FFT"}


@pytest.fixture
def state(state_store):
    return state_store


def test_table(state):
    commit_grading(state, PARENT, TABLE, validate=ValidateSettings())
    assert render_table(matrices(state.records())) == """\
pipeline.durations.grade  (3 criteria × 4 solutions · rubric TASK_DATA.md)

  #  criterion        about                             points  req  solution1   solution2   golden      original
  1  compound-units   Parses compound durations such …       3  yes  PASS 0.25s  PASS 0.25s  PASS 0.25s  FAIL 0.25s
  2  rejects-garbage  Raises ValueError on garbage.          2  yes  PASS 0.50s  FAIL 0.50s  PASS 0.50s  FAIL 0.50s
  3  whitespace       Tolerates spaces.                    1.5  no   PASS 0.75s  FAIL 0.75s  PASS 0.75s  TIMEOUT 0.75s

     score                                                           6.5/6.5     3/6.5       6.5/6.5     0/6.5
     required failed                                                 -           #2          -           #1, #2
     verdict                                                         pass        fail        pass        fail
     time                                                            1.5s        1.5s        1.5s        1.5s

Not passed:
  #2 rejects-garbage × solution2: FAIL — exit code 1
      ✗ tests.test_held_out.RejectsGarbage.test_it: AssertionError: RejectsGarbage is not right
  #3 whitespace × solution2: FAIL — exit code 1
      ✗ tests.test_held_out.Whitespace.test_it: AssertionError: Whitespace is not right

Gates: passed (the golden patch passes every criterion; the original fails every criterion)
"""


def test_table_with_failed_gates_flaky_golden_and_an_infrastructure_error(state):
    commit_grading(state, PARENT, {"solution1": "PP-", "golden": "PPP", "original": "PFF"},
                   validate=ValidateSettings(repeat=2), repeats={"whitespace": "PF"})
    commit_failed_child(state, PARENT, "whitespace", "solution1",
                        "container tf-pool-1 is gone", output="No such container")
    assert render_table(matrices(state.records())) == """\
pipeline.durations.grade  (3 criteria × 3 solutions · rubric TASK_DATA.md)

  #  criterion        about                             points  req  solution1    golden       original
  1  compound-units   Parses compound durations such …       3  yes  PASS 0.25s   PASS 0.25s   PASS 0.25s
  2  rejects-garbage  Raises ValueError on garbage.          2  yes  PASS 0.50s   PASS 0.50s   FAIL 0.50s
  3  whitespace       Tolerates spaces.                    1.5  no   ERROR 0.00s  FAIL* 0.75s  FAIL 0.75s

     score                                                           5/6.5        5/6.5        3/6.5
     required failed                                                 -            -            #2
     verdict                                                         pass         pass         fail
     time                                                            0.75s        1.5s         1.5s
  * flaky: the result changed across repeats

Not passed:
  #3 whitespace × solution1: ERROR — container tf-pool-1 is gone
  #3 whitespace × golden: FAIL — flaky: PASS, FAIL; run 2: exit code 1
      ✗ tests.test_held_out.Whitespace.test_it: AssertionError: Whitespace is not right

Gates: FAILED
  - the original passes 1 criterion it should fail: compound-units
  - the golden result is flaky across 2 runs for 1 criterion: whitespace (PASS, FAIL)
"""


def test_table_colours_status_cells_only_when_asked(state):
    commit_grading(state, PARENT, {"solution1": "PFT", "golden": "PPP"})
    plain = render_table(matrices(state.records()))
    coloured = render_table(matrices(state.records()), color=True)
    assert "\033[" not in plain
    assert "  \033[32mPASS 0.25s   \033[0m  \033[32mPASS 0.25s\033[0m\n" in coloured
    assert "\033[31mFAIL 0.50s   \033[0m" in coloured
    assert "\033[33mTIMEOUT 0.75s\033[0m" in coloured


def test_markdown(state):
    commit_grading(state, PARENT, {"solution1": "PFP", "golden": "PPP"})
    assert render_markdown(matrices(state.records())) == """\
## pipeline.durations.grade

3 criteria × 2 solutions · rubric TASK_DATA.md

| # | criterion | about | points | required | solution1 | golden |
|---:|---|---|---:|:---:|:---:|:---:|
| 1 | compound-units | Parses compound durations such as 1h30m. | 3 | yes | ✅ PASS 0.25s | ✅ PASS 0.25s |
| 2 | rejects-garbage | Raises ValueError on garbage. | 2 | yes | ❌ FAIL 0.50s | ✅ PASS 0.50s |
| 3 | whitespace | Tolerates spaces. | 1.5 | no | ✅ PASS 0.75s | ✅ PASS 0.75s |
| | **score** | | | | **4.5/6.5** | **6.5/6.5** |
| | **required failed** | | | | #2 | - |
| | **verdict** | | | | ❌ fail | ✅ pass |

<details><summary>#2 rejects-garbage × solution1: ❌ FAIL — exit code 1</summary>

- ✗ tests.test_held_out.RejectsGarbage.test_it: AssertionError: RejectsGarbage is not right

```text
output of rejects-garbage for solution1
```

</details>
"""


def test_markdown_fences_outlast_backticks_in_the_output_and_escape_html(state):
    commit_grading(state, PARENT, {"solution1": "PP-"})
    commit_failed_child(state, PARENT, "whitespace", "solution1",
                        "bad <tag> & co", output="```\nnested fence\n```")
    text = render_markdown(matrices(state.records()))
    assert "× solution1: ⚠️ ERROR — bad &lt;tag&gt; &amp; co</summary>" in text
    assert "\n````text\n```\nnested fence\n```\n````\n" in text


def test_json_carries_every_cell_with_its_output(state):
    commit_grading(state, PARENT, TABLE, validate=ValidateSettings())
    data = json.loads(render_json(matrices(state.records())))
    [grading] = data["gradings"]
    assert grading["address"] == PARENT and grading["solutions"] == list(TABLE)
    assert len(grading["cells"]) == 12
    cell = next(c for c in grading["cells"]
                if (c["criterion"], c["solution"]) == ("whitespace", "original"))
    assert {k: cell[k] for k in ("status", "reason", "exit_code", "output", "seconds",
                                 "repeats", "flaky")} == {
        "status": "TIMEOUT", "reason": "timed out after 45s (exit code 124)", "exit_code": 124,
        "output": "output of whitespace for original\n", "seconds": 0.75,
        "repeats": ["TIMEOUT"], "flaky": False}
    assert grading["scores"]["solution2"] == {
        "earned": 3.0, "total": 6.5, "passed": ["compound-units"],
        "failed": ["rejects-garbage", "whitespace"], "required_failed": ["rejects-garbage"],
        "missing": [], "verdict": "fail"}
    assert grading["gates"] == {"ok": True, "golden_failed": [], "original_passed": [],
                                "flaky": [], "messages": []}
    failed = next(c for c in grading["cells"]
                  if (c["criterion"], c["solution"]) == ("whitespace", "solution2"))
    assert {k: failed[k] for k in ("started_at", "evidence", "tests")} == {
        "started_at": "2025-06-01T12:00:00.000Z", "evidence": "results",
        "tests": [{"id": "tests.test_held_out.Whitespace.test_it", "outcome": "failed",
                   "message": "Traceback (most recent call last):\n  File \"x.py\", line 3\n"
                              "AssertionError: Whitespace is not right", "seconds": 0.0}]}


def test_json_scores_are_numbers_of_one_type(state):
    commit_grading(state, PARENT, {"solution1": "PPP", "original": "FFF"})
    [grading] = json.loads(render_json(matrices(state.records())))["gradings"]
    values = [grading["scores"][s][k] for s in ("solution1", "original")
              for k in ("earned", "total")] + [c["score"] for c in grading["criteria"]]
    assert values == [6.5, 6.5, 0.0, 6.5, 3.0, 2.0, 1.5]
    assert {type(v) for v in values} == {float}


def test_html_escapes_whatever_a_test_printed(state):
    commit_grading(state, PARENT, {"solution1": "PP-"})
    commit_failed_child(state, PARENT, "whitespace", "solution1",
                        "x", output="<script>alert(1)</script>")
    page = render_html(matrices(state.records()), generated_at="now")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="http' not in page and 'src="http' not in page  # no external assets


@pytest.mark.parametrize("value,text", [(0.004, "0.00s"), (0.25, "0.25s"), (3.21, "3.2s"),
                                        (59.9, "59.9s"), (125, "2m05s")])
def test_seconds(value, text):
    assert seconds(value) == text


def test_html_shows_phase_timings_in_the_order_they_ran(state):
    commit_grading(state, PARENT, {"solution1": "PPP"})  # the state keeps keys sorted
    page = render_html(matrices(state.records()), generated_at="now")
    assert "<dd>reset 0.01s, patch 0.00s, tests_patch 0.00s, run 0.25s, total 0.27s</dd>" in page


def test_passed_gates_say_what_was_checked(state):
    commit_grading(state, PARENT, {"golden": "PPP", "original": "PFF"},
                   validate=ValidateSettings(original_must_fail=False, repeat=3),
                   repeats={"whitespace": "PPP"})
    assert render_table(matrices(state.records())).endswith(
        "Gates: passed (the golden patch passes every criterion; the golden result is the same "
        "in all 3 runs)\n")


def test_junit_has_one_case_per_criterion_and_solution_and_expects_the_original_to_fail(state):
    commit_grading(state, PARENT, {"solution1": "PF-", "original": "PTF"})
    commit_failed_child(state, PARENT, "whitespace", "solution1", "bad \x1b[31m thing",
                        output="No such container")
    root = ET.fromstring(render_junit(matrices(state.records())))
    [suite] = root
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "2", "1")
    assert suite.get("name") == PARENT
    cases = [(case.get("classname"), case.get("name"),
              [(c.tag, c.get("type"), c.get("message")) for c in case
               if c.tag not in ("properties", "system-out")]) for case in suite]
    assert cases == [
        (f"{PARENT}.solution1", "#1 compound-units: Parses compound durations such as 1h30m.", []),
        (f"{PARENT}.original", "#1 compound-units: Parses compound durations such as 1h30m.",
         [("failure", "PASS", "the original passes: the criterion catches nothing")]),
        (f"{PARENT}.solution1", "#2 rejects-garbage: Raises ValueError on garbage.",
         [("failure", "FAIL", "exit code 1")]),
        (f"{PARENT}.original", "#2 rejects-garbage: Raises ValueError on garbage.", []),
        (f"{PARENT}.solution1", "#3 whitespace: Tolerates spaces.",
         [("error", "ERROR", "bad \ufffd[31m thing")]),
        (f"{PARENT}.original", "#3 whitespace: Tolerates spaces.", [])]
    failure = suite[2].find("failure")
    assert failure is not None and failure.text == (
        "✗ tests.test_held_out.RejectsGarbage.test_it: AssertionError: RejectsGarbage is not "
        "right\nexit code 1")
    assert {p.get("name"): p.get("value") for p in suite[1].iter("property")} == {
        "criterion": "compound-units", "solution": "original", "score": "3",
        "required": "true", "expected": "FAIL"}
