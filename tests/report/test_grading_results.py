"""Reading grading records back from a real state (each backend) into matrices: order, scores,
gates, infrastructure failures, and records without their parent."""

from __future__ import annotations

import pytest
from grading_records import commit_failed_child, commit_grading

from runner.rubric.results import matrices, solution_order
from runner.rubric.score import ValidateSettings
from runner.rubric.status import Status

PARENT = "pipeline.durations.grade"
TABLE = {"solution1": "PPP", "solution2": "PFF", "solution3": "EEE", "golden": "PPP",
         "original": "FFT"}


@pytest.fixture
def state(state_store):
    return state_store


def test_a_matrix_per_rubric_step_in_rubric_and_solution_order(state):
    commit_grading(state, PARENT, TABLE, validate=ValidateSettings())
    [m] = matrices(state.records())
    assert m.address == PARENT and m.rubric_source == "TASK_DATA.md"
    assert [c.id for c in m.criteria] == ["compound-units", "rejects-garbage", "whitespace"]
    assert [(c.counter, c.score, c.required) for c in m.criteria] == [
        (1, 3.0, True), (2, 2.0, True), (3, 1.5, False)]
    assert m.solutions == ("solution1", "solution2", "solution3", "golden", "original")
    grid = {s: "".join(str(m.cell(c.id, s).status)[0] for c in m.criteria)  # type: ignore[union-attr]
            for s in m.solutions}
    assert grid == TABLE
    cell = m.cell("rejects-garbage", "solution2")
    assert cell is not None and (cell.reason, cell.exit_code, cell.seconds) == (
        "exit code 1", 1, 0.5)
    assert cell.output == "output of rejects-garbage for solution2\n"


def test_a_rubric_step_inside_an_expansion_has_its_own_matrix(state):
    nested = 'task.items-api["grade"]'
    commit_grading(state, nested, {"golden": "PPP", "original": "FFF"},
                   validate=ValidateSettings())
    commit_grading(state, PARENT, TABLE)
    assert 'task.items-api["grade","whitespace","golden"]' in state.records()
    found = {m.address: m for m in matrices(state.records())}
    assert list(found) == [PARENT, nested]
    assert found[nested].solutions == ("golden", "original")
    assert found[nested].gates is not None and found[nested].gates.ok


def test_scores_and_verdicts(state):
    commit_grading(state, PARENT, TABLE)
    [m] = matrices(state.records())
    assert {s.solution: (s.earned, s.total, s.required_failed, s.verdict) for s in m.scores} == {
        "solution1": (6.5, 6.5, (), "pass"),
        "solution2": (3.0, 6.5, ("rejects-garbage",), "fail"),
        "solution3": (0.0, 6.5, ("compound-units", "rejects-garbage"), "fail"),
        "golden": (6.5, 6.5, (), "pass"),
        "original": (0.0, 6.5, ("compound-units", "rejects-garbage"), "fail")}
    assert m.gates is None  # no validate settings recorded: no gates


def test_gates_are_computed_from_the_cells(state):
    commit_grading(state, PARENT, {**TABLE, "golden": "PFP", "original": "PFF"},
                   validate=ValidateSettings(repeat=3), repeats={"whitespace": "PFP"})
    [m] = matrices(state.records())
    assert m.gates is not None and list(m.gates.messages) == [
        "the golden patch fails 1 criterion: rejects-garbage (FAIL)",
        "the original passes 1 criterion it should fail: compound-units",
        "the golden result is flaky across 3 runs for 1 criterion: whitespace (PASS, FAIL, PASS)"]
    flaky = m.cell("whitespace", "golden")
    assert flaky is not None and flaky.flaky and flaky.status is Status.FAIL


def test_an_infrastructure_failure_is_an_error_cell_with_its_output(state):
    commit_grading(state, PARENT, {"solution1": "PP-", "golden": "PPP"})
    commit_failed_child(state, PARENT, "whitespace", "solution1",
                        "docker exec failed: container tf-pool-2 is not running (after 3 "
                        "attempts)", output="Error response from daemon: ...")
    [m] = matrices(state.records())
    cell = m.cell("whitespace", "solution1")
    assert cell is not None and cell.status is Status.ERROR
    assert cell.reason == ("docker exec failed: container tf-pool-2 is not running (after 3 "
                           "attempts)")
    assert cell.output == "Error response from daemon: ..."
    assert m.score("solution1").verdict == "pass"  # whitespace is optional
    assert m.score("solution1").earned == 5.0


def test_children_without_their_parent_still_make_a_matrix(state):
    commit_grading(state, PARENT, {"solution10": "PPP", "golden": "PPP", "solution2": "FFF",
                                   "original": "FFF"}, with_parent=False)
    commit_failed_child(state, "pipeline.other.grade", "only-this", "solution1", "boom")
    first, second = matrices(state.records())
    assert first.address == PARENT
    assert [c.id for c in first.criteria] == ["compound-units", "rejects-garbage", "whitespace"]
    assert first.criteria[2].score == 1.5  # from the children's own criterion outputs
    assert first.solutions == ("solution2", "solution10", "golden", "original")
    assert second.address == "pipeline.other.grade"
    assert [(c.id, c.score) for c in second.criteria] == [("only-this", 0.0)]


def test_solution_order_is_natural_with_the_references_last():
    names = ["original", "golden", "solution10", "solution2", "alt", "solution1"]
    assert sorted(names, key=solution_order) == ["alt", "solution1", "solution2", "solution10",
                                                 "golden", "original"]
